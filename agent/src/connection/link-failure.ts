import { status } from "@grpc/grpc-js";
import type { Logger } from "../logging/logger.js";
import { HandshakeTimeoutError } from "./agent-session.js";

/** Why the link went down, reduced to a kind that is the same for the same cause. */
export interface LinkFailure {
  readonly kind: string;
  /** The server refused our identity: retrying soon cannot help; re-enrolling can. */
  readonly fatal: boolean;
  readonly detail: string;
}

export function classifyFailure(error: unknown): LinkFailure {
  const grpcError = error as { code?: number; details?: string; message?: string };
  const detail = grpcError.details || grpcError.message || String(error);
  if (grpcError.code === status.PERMISSION_DENIED || grpcError.code === status.UNAUTHENTICATED) {
    return { kind: "identity refused", fatal: true, detail };
  }
  if (error instanceof HandshakeTimeoutError) return { kind: "no welcome", fatal: false, detail };
  if (/ECONNREFUSED/.test(detail)) return { kind: "connection refused", fatal: false, detail };
  if (/ENOTFOUND|EAI_AGAIN|Name resolution failed/i.test(detail)) {
    return { kind: "name resolution failed", fatal: false, detail };
  }
  if (/certificate|SSL|TLS/i.test(detail)) return { kind: "tls failure", fatal: false, detail };
  if (/ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/.test(detail)) return { kind: "unreachable", fatal: false, detail };
  const name = grpcError.code === undefined ? "error" : (status[grpcError.code] ?? String(grpcError.code));
  return { kind: name.toLowerCase().replaceAll("_", " "), fatal: false, detail };
}

const hints: Record<string, string> = {
  "identity refused":
    "the server refused this agent's certificate (revoked, unknown or expired). Re-enroll: ocore-agent enroll --server <host:port> --token <new token>. Retrying at the longest interval meanwhile.",
  "tls failure":
    "TLS failed: check that the address names the oCore server and, if the certificate expired, re-enroll.",
};

/**
 * Logs each kind of failure once until the link's state changes for the better (a connection)
 * or the kind changes: a server down for an hour gives one line, not three hundred.
 */
export function createFailureLog(logger: Logger): {
  report(failure: LinkFailure, fields?: Record<string, unknown>): void;
  clear(): void;
} {
  let lastKind: string | undefined;
  return {
    report(failure, fields = {}) {
      if (failure.kind === lastKind) {
        logger.debug({ kind: failure.kind, detail: failure.detail, ...fields }, "agent link still failing");
        return;
      }
      lastKind = failure.kind;
      const message = hints[failure.kind] ?? `agent link down: ${failure.kind}; retrying with backoff`;
      const entry = { kind: failure.kind, detail: failure.detail, ...fields };
      if (failure.fatal) logger.error(entry, message);
      else logger.warn(entry, message);
    },
    clear() {
      lastKind = undefined;
    },
  };
}
