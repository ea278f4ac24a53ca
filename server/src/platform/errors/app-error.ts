import { isUuid } from "../db/is-uuid.js";

/**
 * The one error type of the domain. Codes say what kind of failure it is; the transport maps
 * each code to its own status in one table (api/error-interceptor.ts). Messages are written for
 * the person who reads them: what is wrong and, where it helps, what to do.
 */
export type AppErrorCode =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "failed_precondition"
  | "permission_denied"
  | "unauthenticated"
  | "resource_exhausted"
  | "unavailable"
  | "internal";

export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    /** The request field that is wrong, for invalid_argument. */
    readonly field?: string,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = "AppError";
  }

  static invalid(field: string, message: string): AppError {
    return new AppError("invalid_argument", message, field);
  }

  /** Checks that an id field holds a UUID before any query casts it. */
  static requireId(value: string, field = "id"): string {
    if (!isUuid(value)) {
      throw AppError.invalid(field, value ? "is not a valid id" : "is required");
    }
    return value;
  }

  static notFound(what: string): AppError {
    return new AppError("not_found", `${what} does not exist`);
  }
}
