import { type EngineClient, filtersQuery } from "../docker/engine-client.js";
import { INSTANCE_LABEL } from "./instance-layout.js";

/** Docker events that change what an instance's containers report (exec_* and health are not). */
const STATE_EVENTS = ["create", "start", "restart", "die", "stop", "pause", "unpause", "destroy", "oom"];
/** A well-formed event is well under this; a longer line is not one of Docker's. */
const MAX_EVENT_BYTES = 1_000_000;

export interface InstanceEventSink {
  /** Subscribed: events from now on are seen (anything before may have been missed). */
  subscribed(): void;
  /** An event touched this instance's containers. */
  touched(instanceId: string): void;
  /** A line that does not parse: which instance it was about is unknown. */
  unreadable(): void;
}

/**
 * One connection to Docker's event stream for oCore's containers (label `ocore.instance`), split
 * into lines and reported to `sink`; resolves when Docker ends the stream, rejects when it cannot
 * be reached.
 */
export async function followInstanceEvents(
  engine: EngineClient,
  signal: AbortSignal,
  sink: InstanceEventSink,
): Promise<void> {
  const query = filtersQuery({ type: ["container"], label: [INSTANCE_LABEL], event: STATE_EVENTS });
  const stream = await engine.stream(`/events?${query}`, signal);
  sink.subscribed();
  stream.setEncoding("utf8");
  let buffered = "";
  await new Promise<void>((resolve) => {
    stream.on("data", (chunk: Buffer | string) => {
      buffered += chunk.toString();
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        readEvent(buffered.slice(0, newline), sink);
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf("\n");
      }
      if (buffered.length > MAX_EVENT_BYTES) buffered = "";
    });
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", () => resolve());
  });
}

function readEvent(line: string, sink: InstanceEventSink): void {
  if (!line.trim()) return;
  try {
    const event = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } };
    const instanceId = event.Actor?.Attributes?.[INSTANCE_LABEL];
    if (instanceId) sink.touched(instanceId);
  } catch {
    sink.unreadable();
  }
}
