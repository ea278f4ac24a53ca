"use client";

import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { FleetService, type FleetWindow } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import type { ListServersRequest } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { useEffect, useState } from "react";
import { applyFleetBatch, type FleetMap } from "@/lib/live-fleet";
import { reconnectDelayMs, sleepUnlessAborted as sleep } from "@/lib/reconnect";

/** A watch is renewed after this long (the transport needs some deadline for every call). */
const STREAM_TIMEOUT_MS = 6 * 3_600_000;
/** Errors a reconnect cannot fix: the request itself is refused. */
const FINAL_CODES: ReadonlySet<Code> = new Set([Code.InvalidArgument, Code.PermissionDenied]);

export type LiveFleet = {
  /** Undefined until the first batch arrives. */
  readonly fleet: FleetMap | undefined;
  /** A watched page's order, next page token and counts; undefined without a window. */
  readonly window: FleetWindow | undefined;
  /** The last failure; cleared by the next batch. */
  readonly error: ConnectError | undefined;
  /** True while reconnecting after a failure (not for a final error). */
  readonly reconnecting: boolean;
  /** When the last batch arrived, the "now" of relative times. */
  readonly receivedAt: Date;
};

type LiveFleetResult = LiveFleet & {
  /** Starts a new watch at once (after a final error, or to skip the backoff). */
  readonly retry: () => void;
};

/** A ListServers page to follow: its filter, search, order, size and token. */
export type FleetWindowRequest = Pick<
  ListServersRequest,
  "query" | "statuses" | "selector" | "orderBy" | "pageSize" | "pageToken"
>;

/**
 * Follows FleetService/WatchFleet: one page of the fleet (`window`), or the servers the caller
 * may see (only `serverIds`, or those `selector` matches, when given), kept current by the
 * server's feed; no polling. Reconnects with backoff, renewing the session through the
 * transport's refresh interceptor. `enabled: false` watches nothing. With `keepPrevious`, what was
 * shown stays until the new watch's first batch replaces it (a new filter or page does not blank
 * the table).
 */
export function useLiveFleet(
  filter: {
    serverIds?: readonly string[];
    selector?: string;
    window?: FleetWindowRequest;
    enabled?: boolean;
    keepPrevious?: boolean;
  } = {},
): LiveFleetResult {
  const transport = useTransport();
  const [state, setState] = useState<LiveFleet>({
    fleet: undefined,
    window: undefined,
    error: undefined,
    reconnecting: false,
    receivedAt: new Date(),
  });
  const idsKey = (filter.serverIds ?? []).join(",");
  const selector = filter.selector ?? "";
  const windowKey = filter.window ? JSON.stringify(filter.window) : "";
  const enabled = filter.enabled ?? true;
  const keepPrevious = filter.keepPrevious ?? false;
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const fleetClient = createClient(FleetService, transport);
    const authClient = createClient(AuthService, transport);
    const serverIds = idsKey ? idsKey.split(",") : [];
    const window = windowKey ? (JSON.parse(windowKey) as FleetWindowRequest) : undefined;
    void attempt;
    setState((previous) =>
      keepPrevious
        ? { ...previous, error: undefined, reconnecting: false }
        : {
            fleet: undefined,
            window: undefined,
            error: undefined,
            reconnecting: false,
            receivedAt: new Date(),
          },
    );
    if (!enabled) return () => controller.abort();

    void (async () => {
      let failures = 0;
      while (!signal.aborted) {
        try {
          const stream = fleetClient.watchFleet(window ? { window } : { serverIds, selector }, {
            signal,
            timeoutMs: STREAM_TIMEOUT_MS,
          });
          for await (const batch of stream) {
            failures = 0;
            setState((previous) => ({
              fleet: applyFleetBatch(previous.fleet ?? new Map(), batch),
              window: batch.window ?? (batch.initial ? undefined : previous.window),
              error: undefined,
              reconnecting: false,
              receivedAt: new Date(),
            }));
          }
          // The server ended the watch (a restart, a deadline): follow again after a breath.
          await sleep(1_000, signal);
        } catch (caught) {
          if (signal.aborted) return;
          const error = ConnectError.from(caught);
          if (error.code === Code.DeadlineExceeded) continue;
          const final = FINAL_CODES.has(error.code);
          setState((previous) => ({ ...previous, error, reconnecting: !final }));
          if (final) return;
          failures++;
          // A unary call renews an expired access cookie, or ends the session and sends the
          // user to sign in (the transport's refresh interceptor); streams cannot retry by themselves.
          if (error.code === Code.Unauthenticated)
            await authClient.getCurrentUser({}, { signal }).catch(() => {});
          await sleep(reconnectDelayMs(failures), signal);
        }
      }
    })();
    return () => controller.abort();
  }, [transport, idsKey, selector, windowKey, enabled, keepPrevious, attempt]);

  return { ...state, retry: () => setAttempt((n) => n + 1) };
}
