import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../logging/logger.js";

/**
 * Connect turns any exception that is not a ConnectError into "internal" on the wire and
 * drops its cause. This logs the cause with the procedure before that happens, so an
 * unexpected failure is never silent, and sends the client no internals.
 */
export function createErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      if (error instanceof ConnectError) throw error;
      logger.error({ err: error, procedure: request.url }, "unexpected error in an API call");
      throw new ConnectError("internal error; the server log has the details", Code.Internal);
    }
  };
}
