"use client";

import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { type Alert, AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { useEffect, useState } from "react";
import { reconnectDelayMs, sleepUnlessAborted as sleep } from "@/lib/reconnect";

const STREAM_TIMEOUT_MS = 6 * 3_600_000;
const FINAL_CODES: ReadonlySet<Code> = new Set([Code.InvalidArgument, Code.PermissionDenied]);

export type LiveAlerts = {
  /** Undefined until the first snapshot arrives. */
  readonly alerts: readonly Alert[] | undefined;
  readonly error: ConnectError | undefined;
  readonly reconnecting: boolean;
};

/**
 * Follows AlertService/WatchAlerts: the caller's alerts, sent again by the server whenever they
 * change (on any replica); reconnects with jittered backoff.
 */
export function useLiveAlerts(includeResolved: boolean): LiveAlerts & { retry: () => void } {
  const transport = useTransport();
  const [state, setState] = useState<LiveAlerts>({
    alerts: undefined,
    error: undefined,
    reconnecting: false,
  });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const client = createClient(AlertService, transport);
    void attempt;
    void (async () => {
      let failures = 0;
      while (!signal.aborted) {
        try {
          for await (const snapshot of client.watchAlerts(
            { includeResolved },
            { signal, timeoutMs: STREAM_TIMEOUT_MS },
          )) {
            failures = 0;
            setState({ alerts: snapshot.alerts, error: undefined, reconnecting: false });
          }
          await sleep(1_000, signal);
        } catch (caught) {
          if (signal.aborted) return;
          const error = ConnectError.from(caught);
          if (error.code === Code.DeadlineExceeded) continue;
          const final = FINAL_CODES.has(error.code);
          setState((previous) => ({ ...previous, error, reconnecting: !final }));
          if (final) return;
          failures++;
          await sleep(reconnectDelayMs(failures), signal);
        }
      }
    })();
    return () => controller.abort();
  }, [transport, includeResolved, attempt]);

  return { ...state, retry: () => setAttempt((n) => n + 1) };
}
