import type { Readable } from "node:stream";
import type { OutputStreamName } from "../commands/command-handler.js";

/** Frames of one stream are joined up to this size before they go to the sink. */
const MAX_JOINED_BYTES = 64 * 1024;

export type StreamSink = (
  stream: Extract<OutputStreamName, "stdout" | "stderr">,
  data: Uint8Array,
) => Promise<void>;

/**
 * Reads Docker's attach/log stream and hands it to `sink`, awaiting each call (backpressure).
 * Without a TTY Docker multiplexes stdout and stderr in frames: an 8-byte header (stream type,
 * three zero bytes, big-endian payload length) then the payload, usually one line per frame.
 * Consecutive frames of one stream are joined per read (up to 64 KiB), so a chatty log costs a
 * few large chunks instead of one per line, while each read still goes out at once. With a TTY
 * the stream is raw stdout. Ends when the stream ends; destroying it (on cancel) ends it early.
 */
export async function pumpDockerStream(source: Readable, tty: boolean, sink: StreamSink): Promise<void> {
  if (tty) {
    for await (const chunk of source) await sink("stdout", toBytes(chunk));
    return;
  }
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of source) {
    pending = pending.length ? Buffer.concat([pending, toBytes(chunk)]) : toBytes(chunk);
    let run: { kind: "stdout" | "stderr"; parts: Buffer[]; size: number } | undefined;
    const flush = async () => {
      if (run && run.size > 0)
        await sink(run.kind, run.parts.length === 1 ? (run.parts[0] as Buffer) : Buffer.concat(run.parts));
      run = undefined;
    };
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const kind = pending[0] === 2 ? "stderr" : "stdout";
      const payload = pending.subarray(8, 8 + size);
      pending = pending.subarray(8 + size);
      if (run && (run.kind !== kind || run.size + payload.length > MAX_JOINED_BYTES)) await flush();
      run ??= { kind, parts: [], size: 0 };
      run.parts.push(payload);
      run.size += payload.length;
    }
    await flush();
  }
}

/** Destroys `source` when `signal` aborts; returns the function that stops listening. */
export function destroyOnAbort(source: Readable, signal: AbortSignal): () => void {
  const onAbort = () => source.destroy();
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  return () => signal.removeEventListener("abort", onAbort);
}

/** Keeps the first `limit` bytes of what passes through. */
export function createCapture(limit: number): {
  add(data: Uint8Array): void;
  bytes(): Uint8Array;
  readonly truncated: boolean;
} {
  const parts: Buffer[] = [];
  let size = 0;
  let truncated = false;
  return {
    add(data) {
      const room = limit - size;
      if (data.length > room) truncated = true;
      if (room <= 0) return;
      const kept = Buffer.from(data.subarray(0, room));
      parts.push(kept);
      size += kept.length;
    },
    bytes: () => Buffer.concat(parts),
    get truncated() {
      return truncated;
    },
  };
}

/** Splits newline-delimited JSON (Docker's progress streams) as it arrives. */
export async function* jsonLines(source: Readable): AsyncGenerator<unknown> {
  let buffered = "";
  for await (const chunk of source) {
    buffered += toBytes(chunk).toString("utf8");
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield parseLine(line);
      newline = buffered.indexOf("\n");
    }
  }
  if (buffered.trim()) yield parseLine(buffered.trim());
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return { status: line };
  }
}

function toBytes(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  return Buffer.from(String(chunk));
}
