import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  CommandEventSchema,
  ConnectRequestSchema,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";

export type CommandEventInit = MessageInitShape<typeof CommandEventSchema>;
type ConnectPayload = MessageInitShape<typeof ConnectRequestSchema>["payload"];

/** The current stream, as the outbox writes to it. */
export interface OutboxWriter {
  /**
   * Writes events in their order (as one message where the server takes batches). false: the
   * stream's buffer is full; wait for drained() before writing more.
   */
  write(events: readonly CommandEventInit[]): boolean;
  drained(): Promise<void>;
}

/**
 * The writer for one live stream: one CommandEvents message per batch when the server's Welcome
 * says it takes them (command_event_batches), one CommandEvent per message otherwise. `send`
 * writes one message and returns false when the stream's buffer is full.
 */
export function streamOutboxWriter(
  send: (payload: ConnectPayload) => boolean,
  drained: () => Promise<void>,
  batches: boolean,
): OutboxWriter {
  return {
    write: (events) =>
      batches
        ? send({ case: "commandEvents", value: { events: [...events] } })
        : events.reduce((room, event) => send({ case: "commandEvent", value: event }) && room, true),
    drained,
  };
}

/**
 * Where running commands send their events. Events wait (in order) while the agent is not
 * connected or the stream's buffer is full; a bounded amount is accepted at once, so a command
 * that makes a lot of output is slowed to the stream's pace instead of growing memory.
 */
export interface CommandOutbox {
  /** A stream is live (after Welcome). */
  attach(writer: OutboxWriter): void;
  /** That stream ended. */
  detach(writer: OutboxWriter): void;
  /**
   * Queues an event; resolves once the outbox accepted it (it is written with what else is queued
   * at that moment), rejects with the signal's reason if it aborts while waiting for room.
   */
  send(event: CommandEventInit, signal?: AbortSignal): Promise<void>;
  /** Bytes of output accepted but not yet written (for tests). */
  readonly queuedBytes: number;
  /** Bytes of output written and kept for a replay on the next stream (for tests). */
  readonly replayBytes: number;
}

export interface CommandOutboxOptions {
  /** Output bytes accepted before send() waits (default 256 KiB). */
  readonly maxQueuedBytes?: number;
  /** Events per written message at most (default 256; the server takes up to 1,024). */
  readonly maxBatchEvents?: number;
  /** Output bytes per written message at most (default 128 KiB; one event may exceed it). */
  readonly maxBatchBytes?: number;
  /**
   * What was written is kept for a new stream to replay: at most this many output bytes (default
   * 4 MiB; the oldest go first) and for this long (default 120 s). 0 bytes keeps nothing.
   */
  readonly replay?: { readonly maxBytes?: number; readonly maxAgeMs?: number };
  readonly now?: () => number;
}

/** What an event costs in the queue: its output bytes, and a little for the rest. */
const sizeOf = (event: CommandEventInit) =>
  64 + (event.event?.case === "output" ? (event.event.value.data?.byteLength ?? 0) : 0);

/**
 * Events are queued in one FIFO across all commands and written together once the current
 * macrotask is done, so whatever the commands reported meanwhile (a short command's started,
 * output and finished; many commands received in one read) leaves as one message. A full stream
 * stops the writing until it drains, and a full queue makes every sender wait.
 *
 * A write only hands the events to the transport: when the stream dies they may still sit in a
 * socket buffer, or be on a path that went dark. So the outbox keeps what it wrote (bounded by
 * bytes and age) and, when the next stream attaches, writes it again before anything newer
 * (decision 0250). The server stores each step once (chunks by sequence, one start, one end), so
 * a replay costs bytes, never a duplicate, and a chunk lost in flight no longer leaves a gap.
 */
export function createCommandOutbox(options: CommandOutboxOptions = {}): CommandOutbox {
  const maxQueued = options.maxQueuedBytes ?? 256 * 1024;
  const maxEvents = options.maxBatchEvents ?? 256;
  const maxBytes = options.maxBatchBytes ?? 128 * 1024;
  const replayBytes = options.replay?.maxBytes ?? 4 * 1024 * 1024;
  const replayAgeMs = options.replay?.maxAgeMs ?? 120_000;
  const clock = options.now ?? Date.now;
  let current: OutboxWriter | undefined;
  /** The writer the last batch went to; a different one attaching gets `written` again. */
  let lastWritten: OutboxWriter | undefined;
  /** Events written to `lastWritten`, oldest first, with when; bounded by replayBytes and replayAgeMs. */
  let written: Array<{ readonly event: CommandEventInit; readonly at: number; readonly size: number }> = [];
  let writtenBytes = 0;
  const queue: CommandEventInit[] = [];
  let queued = 0;
  let scheduled = false;
  let writing = false;
  /** A writer whose write threw; nothing more is written to it. */
  let broken: OutboxWriter | undefined;
  const roomWaiters: Array<() => void> = [];

  /** Forgets what is older than the replay age, then the oldest until the bytes fit. */
  const trimWritten = () => {
    const oldest = clock() - replayAgeMs;
    let drop = 0;
    while (drop < written.length && ((written[drop]?.at ?? 0) < oldest || writtenBytes > replayBytes)) {
      writtenBytes -= written[drop]?.size ?? 0;
      drop += 1;
    }
    if (drop > 0) written = written.slice(drop);
  };

  const remember = (writer: OutboxWriter, batch: readonly CommandEventInit[]) => {
    if (replayBytes <= 0) return;
    const at = clock();
    for (const event of batch) {
      const size = sizeOf(event);
      written.push({ event, at, size });
      writtenBytes += size;
    }
    lastWritten = writer;
    trimWritten();
  };

  const wakeSenders = () => {
    while (roomWaiters.length > 0 && queued < maxQueued) roomWaiters.shift()?.();
  };

  const schedule = () => {
    if (scheduled || writing || !current || current === broken || queue.length === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void flush();
    });
  };

  /** Writes the queue in batches while the stream takes them; stops at a full buffer or detach. */
  async function flush(): Promise<void> {
    if (writing) return;
    writing = true;
    try {
      while (current && current !== broken && queue.length > 0) {
        const writer = current;
        let count = 0;
        let bytes = 0;
        while (count < queue.length && count < maxEvents) {
          const size = sizeOf(queue[count] as CommandEventInit);
          if (count > 0 && bytes + size > maxBytes) break;
          bytes += size;
          count += 1;
        }
        const batch = queue.splice(0, count);
        let room: boolean;
        try {
          room = writer.write(batch);
        } catch {
          // The stream broke under the write: keep the events for the next stream (the server
          // stores each step once) and stop writing to this one.
          queue.unshift(...batch);
          broken = writer;
          return;
        }
        queued -= bytes;
        remember(writer, batch);
        wakeSenders();
        if (!room) await writer.drained();
      }
    } finally {
      writing = false;
    }
    schedule(); // senders woken by the last write queued more
  }

  const room = (signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = roomWaiters.indexOf(wake);
        if (index >= 0) roomWaiters.splice(index, 1);
        reject(signal?.reason);
      };
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      roomWaiters.push(wake);
    });

  return {
    get queuedBytes() {
      return queued;
    },
    get replayBytes() {
      return writtenBytes;
    },
    attach(writer) {
      current = writer;
      if (lastWritten !== undefined && lastWritten !== writer) {
        trimWritten();
        // Ahead of whatever waited meanwhile: a command's steps stay in their order.
        queue.unshift(...written.map((entry) => entry.event));
        queued += writtenBytes;
        written = [];
        writtenBytes = 0;
        lastWritten = undefined;
      }
      schedule();
    },
    detach(writer) {
      if (current === writer) current = undefined;
    },
    async send(event, signal) {
      signal?.throwIfAborted();
      // First come, first served: a sender never overtakes one that is already waiting.
      while (queued >= maxQueued || roomWaiters.length > 0) {
        await room(signal);
        if (queued < maxQueued) break;
      }
      queue.push(event);
      queued += sizeOf(event);
      schedule();
    },
  };
}
