import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { AppError, type AppErrorCode } from "../../platform/errors/app-error.js";

/** How a stream or call ends, in the gateway's words; mapped to gRPC below and nowhere else. */
export type EndCode = AppErrorCode | "ok" | "aborted" | "deadline_exceeded";

export interface End {
  readonly code: EndCode;
  readonly message: string;
}

const grpcCodes: Record<EndCode, status> = {
  ok: status.OK,
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  failed_precondition: status.FAILED_PRECONDITION,
  unauthenticated: status.UNAUTHENTICATED,
  permission_denied: status.PERMISSION_DENIED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  aborted: status.ABORTED,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  internal: status.INTERNAL,
};

export function toServiceError(end: End): Partial<ServiceError> {
  return { code: grpcCodes[end.code], details: end.message, metadata: new Metadata() };
}

/** An AppError ends with its own code and message; anything else is "internal". */
export function endFromError(error: unknown): End {
  if (error instanceof AppError) return { code: error.code, message: error.message };
  return { code: "internal", message: "internal error; the server log has the details" };
}
