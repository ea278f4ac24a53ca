"use client";

import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { useTransport } from "@connectrpc/connect-query";
import { InstanceService } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import { useEffect, useId, useRef, useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";

const CONTAINERS = [
  { value: "odoo", label: "Odoo" },
  { value: "db", label: "PostgreSQL" },
  { value: "mail", label: "Mailpit" },
] as const;
/** Lines kept on screen; older ones scroll away. */
const MAX_LINES = 2_000;
/** The server ends a follow after an hour; the transport needs a deadline too. */
const FOLLOW_TIMEOUT_MS = 3_700_000;

type Line = { n: number; text: string; stderr: boolean };

/** A container's log, live (WatchLogs with follow), stdout and stderr apart. */
export function InstanceLogs({ instanceId }: { instanceId: string }) {
  const transport = useTransport();
  const [container, setContainer] = useState<string>("odoo");
  const [lines, setLines] = useState<Line[]>([]);
  const [error, setError] = useState<ConnectError>();
  const [ended, setEnded] = useState(false);
  const [session, setSession] = useState(0);
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  const selectId = useId();

  useEffect(() => {
    const controller = new AbortController();
    const client = createClient(InstanceService, transport);
    const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const partial = { stdout: "", stderr: "" };
    let counter = 0;
    setLines([]);
    setError(undefined);
    setEnded(false);
    void session;
    void (async () => {
      try {
        const stream = client.watchLogs(
          { id: instanceId, container, tailLines: 200, follow: true },
          { signal: controller.signal, timeoutMs: FOLLOW_TIMEOUT_MS },
        );
        for await (const chunk of stream) {
          const kind = chunk.stream === "stderr" ? "stderr" : "stdout";
          const text = partial[kind] + decoders[kind].decode(chunk.data, { stream: true });
          const parts = text.split("\n");
          partial[kind] = parts.pop() ?? "";
          const fresh = parts.map((part) => ({ n: counter++, text: part, stderr: kind === "stderr" }));
          if (fresh.length > 0) setLines((previous) => [...previous, ...fresh].slice(-MAX_LINES));
        }
        setEnded(true);
      } catch (caught) {
        if (controller.signal.aborted) return;
        const failure = ConnectError.from(caught);
        if (failure.code === Code.DeadlineExceeded) setEnded(true);
        else setError(failure);
      }
    })();
    return () => controller.abort();
  }, [transport, instanceId, container, session]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll after new lines
  useEffect(() => {
    if (stick.current && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines]);

  return (
    <section className="space-y-3" aria-labelledby="logs-heading">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h2 id="logs-heading" className="text-lg font-semibold">
          Logs
        </h2>
        <div className="flex items-end gap-2">
          <div className="space-y-1">
            <label htmlFor={selectId} className="block text-sm font-medium">
              Container
            </label>
            <select
              id={selectId}
              value={container}
              onChange={(e) => setContainer(e.target.value)}
              className="block h-9.5 rounded-md border border-line bg-surface px-2 text-ink"
              data-testid="log-container"
            >
              {CONTAINERS.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          </div>
          <Button onClick={() => setLines([])}>Clear</Button>
        </div>
      </div>
      <pre
        ref={box}
        role="log"
        aria-label={`Log of the ${container} container`}
        aria-live="off"
        onScroll={(event) => {
          const element = event.currentTarget;
          stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
        }}
        className="h-80 overflow-auto rounded-lg border border-line bg-surface-muted p-3 font-mono text-xs leading-relaxed"
        data-testid="log-lines"
      >
        {lines.length === 0 ? (
          <span className="text-ink-muted">
            {error || ended ? "No log lines." : "Waiting for log lines…"}
          </span>
        ) : (
          lines.map((line) => (
            <span key={line.n} className={`block whitespace-pre-wrap ${line.stderr ? "text-danger" : ""}`}>
              {line.text}
            </span>
          ))
        )}
      </pre>
      {error ? <ActionError error={error} action="follow the log" /> : null}
      {error || ended ? (
        <Button onClick={() => setSession((n) => n + 1)} data-testid="log-reconnect">
          {ended ? "The log stream ended: follow again" : "Try again"}
        </Button>
      ) : null}
    </section>
  );
}
