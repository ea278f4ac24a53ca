import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { AppError, type AppErrorCode } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import { requestLoggerOf } from "./request-logger.js";

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
  if (error.field) connectError.metadata.set("x-ocore-field", headerValue(error.field));
  return connectError;
}

/**
 * A field path as an HTTP header value: headers carry Latin-1 only, and a path can hold a
 * client's map key (any Unicode), so bytes outside printable ASCII, and "%", are
 * percent-encoded as UTF-8 (decodeURIComponent reverses it); long paths are cut.
 */
export function headerValue(field: string): string {
  const short = field.length > 200 ? `${field.slice(0, 200)}…` : field;
  return short.replace(/[^\x20-\x24\x26-\x7e]+/gu, (run) =>
    Array.from(
      Buffer.from(run, "utf8"),
      (byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`,
    ).join(""),
  );
}

/**
 * Outermost interceptor: AppErrors become their Connect codes; anything else is logged with its
 * cause and the procedure, and the client gets "internal" without internals.
 */
export function createErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (request) => {
    const translate = (error: unknown): ConnectError => {
      if (error instanceof AppError) return toConnectError(error);
      if (error instanceof ConnectError) return error;
      requestLoggerOf(request.contextValues, logger).error({ err: error }, "unexpected error in an API call");
      return new ConnectError("internal error; the server log has the details", Code.Internal);
    };
    try {
      const response = await next(request);
      // A streaming response fails while it is read, after this function returned.
      return response.stream
        ? { ...response, message: translateErrors(response.message, translate) }
        : response;
    } catch (error) {
      throw translate(error);
    }
  };
}

/** Passes a stream's messages through, turning the error that ends it into a ConnectError. */
export async function* translateErrors<T>(
  messages: AsyncIterable<T>,
  translate: (error: unknown) => unknown,
): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (error) {
    throw translate(error);
  }
}
