"use client";

import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { type AuditEntry, AuditService } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { useEffect, useRef, useState } from "react";
import type { AuditFilterValues } from "@/lib/audit-filters";
import { addLiveEntries } from "@/lib/audit-live";
import { reconnectDelayMs, sleepUnlessAborted as sleep } from "@/lib/reconnect";
import { auditFilterMessage } from "./audit-tools";

/** A follow is renewed after this long (the transport needs some deadline for every call). */
const STREAM_TIMEOUT_MS = 6 * 3_600_000;
/** Errors a reconnect cannot fix: the request itself is refused. */
const FINAL_CODES: ReadonlySet<Code> = new Set([Code.InvalidArgument, Code.PermissionDenied]);
/** Entries arriving together (a catch-up after a pause) are shown together. */
const FLUSH_MS = 50;

export type AuditFollowState = "waiting" | "live" | "paused" | "reconnecting" | "failed";

export type AuditFollow = {
  /** Entries that arrived since the list was read, newest first. */
  readonly entries: readonly AuditEntry[];
  readonly state: AuditFollowState;
  /** The last failure; cleared when following works again. */
  readonly error: ConnectError | undefined;
};

/**
 * Follows AuditService/FollowAuditLog with the page's filters from `startAfter` (the list's
 * end; undefined until the list is read); live once the server says it has caught up. Pausing ends the stream; resuming follows again
 * from the last entry received, and the server sends what was written meanwhile. Reconnects
 * with backoff the same way.
 */
export function useAuditFollow(
  filters: AuditFilterValues,
  startAfter: bigint | undefined,
  paused: boolean,
): AuditFollow {
  const transport = useTransport();
  const filterKey = JSON.stringify(filters);
  const [entries, setEntries] = useState<readonly AuditEntry[]>([]);
  const [state, setState] = useState<AuditFollowState>("waiting");
  const [error, setError] = useState<ConnectError>();
  /** The last entry shown, per filter: where the next follow continues. */
  const cursor = useRef<{ key: string; after: bigint } | undefined>(undefined);
  // Read when a follow of new filters starts; a refetched list does not restart the follow.
  const start = useRef(startAfter);
  start.current = startAfter;
  const ready = startAfter !== undefined;

  // New filters: a new list, so new live entries from its end.
  useEffect(() => {
    void filterKey;
    setEntries([]);
    setError(undefined);
  }, [filterKey]);

  useEffect(() => {
    if (!ready) {
      setState("waiting");
      return;
    }
    if (cursor.current?.key !== filterKey) cursor.current = { key: filterKey, after: start.current ?? 0n };
    if (paused) {
      setState("paused");
      return;
    }
    const controller = new AbortController();
    const { signal } = controller;
    const auditClient = createClient(AuditService, transport);
    const authClient = createClient(AuthService, transport);
    const filter = auditFilterMessage(JSON.parse(filterKey) as AuditFilterValues);
    let pending: AuditEntry[] = [];
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      flushTimer = undefined;
      const arrived = pending;
      pending = [];
      if (arrived.length > 0) setEntries((live) => addLiveEntries(live, arrived));
    };

    setState("waiting");
    void (async () => {
      let failures = 0;
      while (!signal.aborted) {
        try {
          const stream = auditClient.followAuditLog(
            { afterId: cursor.current?.after ?? 0n, filter },
            { signal, timeoutMs: STREAM_TIMEOUT_MS },
          );
          for await (const response of stream) {
            failures = 0;
            if (response.caughtUp) {
              setState("live");
              setError(undefined);
            }
            const entry = response.entry;
            if (!entry || signal.aborted) continue;
            cursor.current = { key: filterKey, after: entry.id };
            pending.push(entry);
            flushTimer ??= setTimeout(flush, FLUSH_MS);
          }
          await sleep(1_000, signal);
        } catch (caught) {
          if (signal.aborted) return;
          const failure = ConnectError.from(caught);
          if (failure.code === Code.DeadlineExceeded) continue;
          setError(failure);
          if (FINAL_CODES.has(failure.code)) {
            setState("failed");
            return;
          }
          setState("reconnecting");
          failures++;
          // A unary call renews an expired access cookie (the transport's refresh interceptor).
          if (failure.code === Code.Unauthenticated)
            await authClient.getCurrentUser({}, { signal }).catch(() => {});
          await sleep(reconnectDelayMs(failures), signal);
        }
      }
    })();
    return () => {
      controller.abort();
      if (flushTimer) clearTimeout(flushTimer);
      flush();
    };
  }, [transport, filterKey, ready, paused]);

  return { entries, state, error };
}
