import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { AppError, type AppErrorCode } from "../errors/app-error.js";
import type { Logger } from "../logging/logger.js";

/** The one place where domain error codes become Connect codes. */
const connectCodes: Record<AppErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  permission_denied: Code.PermissionDenied,
  unauthenticated: Code.Unauthenticated,
  resource_exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  internal: Code.Internal,
};

export function toConnectError(error: AppError): ConnectError {
  const connectError = new ConnectError(error.message, connectCodes[error.code]);
  if (error.field) connectError.metadata.set("x-ocore-field", error.field);
  return connectError;
}

/**
 * Outermost interceptor: AppErrors become their Connect codes; anything else is logged with its
 * cause and the procedure, and the client gets "internal" without internals.
 */
export function createErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      if (error instanceof AppError) throw toConnectError(error);
      if (error instanceof ConnectError) throw error;
      logger.error({ err: error, procedure: request.url }, "unexpected error in an API call");
      throw new ConnectError("internal error; the server log has the details", Code.Internal);
    }
  };
}
