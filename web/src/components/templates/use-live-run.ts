"use client";

import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { RunService, type WatchRunResponse } from "@ocore/proto/gen/ocore/api/v1/run_service_pb.js";
import { useEffect, useState } from "react";
import { reconnectDelayMs, sleepUnlessAborted as sleep } from "@/lib/reconnect";

const STREAM_TIMEOUT_MS = 6 * 3_600_000;
const FINAL_CODES: ReadonlySet<Code> = new Set([Code.InvalidArgument, Code.PermissionDenied, Code.NotFound]);

export type LiveRun = {
  readonly snapshot: WatchRunResponse | undefined;
  readonly error: ConnectError | undefined;
  /** "live" while following, "ended" once the run finished, "reconnecting" after a failure. */
  readonly state: "connecting" | "live" | "ended" | "reconnecting" | "failed";
};

/** Follows RunService/WatchRun until the run ends; reconnects with jittered backoff. */
export function useLiveRun(id: string): LiveRun {
  const transport = useTransport();
  const [live, setLive] = useState<LiveRun>({ snapshot: undefined, error: undefined, state: "connecting" });
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const client = createClient(RunService, transport);
    void (async () => {
      let failures = 0;
      while (!signal.aborted) {
        try {
          let last: WatchRunResponse | undefined;
          for await (const snapshot of client.watchRun({ id }, { signal, timeoutMs: STREAM_TIMEOUT_MS })) {
            failures = 0;
            last = snapshot;
            setLive({ snapshot, error: undefined, state: snapshot.run?.finishedAt ? "ended" : "live" });
          }
          if (last?.run?.finishedAt) return;
          await sleep(1_000, signal);
        } catch (caught) {
          if (signal.aborted) return;
          const error = ConnectError.from(caught);
          if (error.code === Code.DeadlineExceeded) continue;
          const final = FINAL_CODES.has(error.code);
          setLive((previous) => ({ ...previous, error, state: final ? "failed" : "reconnecting" }));
          if (final) return;
          failures++;
          await sleep(reconnectDelayMs(failures), signal);
        }
      }
    })();
    return () => controller.abort();
  }, [transport, id]);
  return live;
}
