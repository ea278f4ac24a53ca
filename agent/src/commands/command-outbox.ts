import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CommandEventSchema } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";

export type CommandEventInit = MessageInitShape<typeof CommandEventSchema>;

/** The current stream, as the outbox writes to it. */
export interface OutboxWriter {
  /** false: the stream's buffer is full; wait for drained() before writing more. */
  write(event: CommandEventInit): boolean;
  drained(): Promise<void>;
}

/**
 * Where running commands send their events. Events wait (in order) while the agent is not
 * connected, and each send resolves only once the stream's buffer has room: a command that makes
 * a lot of output is slowed to the stream's pace instead of growing memory.
 */
export interface CommandOutbox {
  /** A stream is live (after Welcome). */
  attach(writer: OutboxWriter): void;
  /** That stream ended. */
  detach(writer: OutboxWriter): void;
  /** Writes an event; rejects with the signal's reason if it aborts while waiting for a stream. */
  send(event: CommandEventInit, signal?: AbortSignal): Promise<void>;
}

export function createCommandOutbox(): CommandOutbox {
  let current: OutboxWriter | undefined;
  const waiting: Array<() => void> = [];
  let busy: Promise<void> = Promise.resolve();

  const connected = (signal?: AbortSignal) =>
    new Promise<OutboxWriter>((resolve, reject) => {
      if (current) {
        resolve(current);
        return;
      }
      const onAbort = () => {
        const index = waiting.indexOf(wake);
        if (index >= 0) waiting.splice(index, 1);
        reject(signal?.reason);
      };
      const wake = () => {
        signal?.removeEventListener("abort", onAbort);
        if (current) resolve(current);
        else waiting.push(wake);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      waiting.push(wake);
    });

  return {
    attach(writer) {
      current = writer;
      for (const wake of waiting.splice(0)) wake();
    },
    detach(writer) {
      if (current === writer) current = undefined;
    },
    send(event, signal) {
      // One event at a time across all commands, so that a full stream blocks every sender.
      const turn = busy.then(async () => {
        signal?.throwIfAborted();
        const writer = await connected(signal);
        if (!writer.write(event)) await writer.drained();
      });
      busy = turn.catch(() => undefined);
      return turn;
    },
  };
}
