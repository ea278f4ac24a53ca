import { status } from "@grpc/grpc-js";
import type { Logger } from "../logging/logger.js";
import { HandshakeTimeoutError, ServerSilentError } from "./agent-session.js";
import type { Clock } from "./clock.js";

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
  if (error instanceof ServerSilentError) return { kind: "server silent", fatal: false, detail };
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

/** While the link stays down, a reminder that it is still retrying at most this often. */
export const STILL_DOWN_EVERY_MS = 60_000;

/**
 * Logs the link's failures at a bounded rate: each change of kind at once, then, while the same
 * failure repeats, a reminder at most once a minute that the agent is still retrying (with the
 * count of attempts and the next attempt's time). A server down for an hour gives one line per
 * minute, not one per attempt, and never silence. `clear` after a connection.
 */
export function createFailureLog(
  logger: Logger,
  clock: Pick<Clock, "now">,
  everyMs = STILL_DOWN_EVERY_MS,
): {
  report(failure: LinkFailure, fields: { readonly retryInMs: number }): void;
  clear(): void;
} {
  let current: { kind: string; since: number; attempts: number; loggedAt: number } | undefined;
  return {
    report(failure, { retryInMs }) {
      const now = clock.now();
      const nextAttemptAt = new Date(now + retryInMs).toISOString();
      const entry = { kind: failure.kind, detail: failure.detail, retryInMs, nextAttemptAt };
      const log = (fields: object, message: string) =>
        failure.fatal ? logger.error(fields, message) : logger.warn(fields, message);
      if (failure.kind !== current?.kind) {
        current = { kind: failure.kind, since: now, attempts: 1, loggedAt: now };
        const hint = hints[failure.kind] ?? `agent link down: ${failure.kind}; retrying with backoff`;
        log(entry, `${hint} (next attempt at ${nextAttemptAt})`);
        return;
      }
      current.attempts++;
      const fields = {
        ...entry,
        attempts: current.attempts,
        downSince: new Date(current.since).toISOString(),
      };
      if (now - current.loggedAt < everyMs) {
        logger.debug(fields, "agent link still failing");
        return;
      }
      current.loggedAt = now;
      log(
        fields,
        `agent link still down (${failure.kind}, ${current.attempts} attempts since ${fields.downSince}): still retrying, next attempt at ${nextAttemptAt}`,
      );
    },
    clear() {
      current = undefined;
    },
  };
}
