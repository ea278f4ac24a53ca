import { Code, type ConnectError } from "@connectrpc/connect";

/**
 * What went wrong with an API call, in the terms the console explains it to users:
 * - "unreachable": the control server did not answer (network failure, timeout, restart);
 * - "failed": it answered, with an error.
 */
export type ApiProblem = {
  kind: "unreachable" | "failed";
  /** The error with its Connect code, e.g. "[unavailable] Failed to fetch", without a final period. */
  message: string;
};

// connect-web reports a failed fetch() as Code.Unknown; a proxy or a server that is
// shutting down answers 502/503, which Connect maps to Code.Unavailable.
const UNREACHABLE_CODES: ReadonlySet<Code> = new Set([Code.Unknown, Code.Unavailable, Code.DeadlineExceeded]);

export function describeApiError(error: ConnectError): ApiProblem {
  return {
    kind: UNREACHABLE_CODES.has(error.code) ? "unreachable" : "failed",
    message: error.message.replace(/\.+$/, ""),
  };
}
