import { OutputStream } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { describe, expect, it } from "vitest";
import { type CommandEventInit, createCommandOutbox, type OutboxWriter } from "./command-outbox.js";

const started = (commandId: string): CommandEventInit => ({
  commandId,
  event: { case: "started", value: {} },
});
const output = (commandId: string, sequence: number, bytes: number): CommandEventInit => ({
  commandId,
  event: {
    case: "output",
    value: { sequence: BigInt(sequence), stream: OutputStream.STDOUT, data: new Uint8Array(bytes) },
  },
});
/** The sequence number of an output event (0 for any other event). */
const sequenceOf = (event: CommandEventInit) =>
  event.event?.case === "output" ? Number(event.event.value.sequence) : 0;
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Records each written message; `full` makes the next write report a full buffer. */
function recorder() {
  const messages: CommandEventInit[][] = [];
  let release: (() => void) | undefined;
  const state = { full: false };
  const writer: OutboxWriter = {
    write(batch) {
      messages.push([...batch]);
      return !state.full;
    },
    drained: () =>
      new Promise<void>((resolve) => {
        release = resolve;
      }),
  };
  return { writer, messages, state, drain: () => release?.() };
}

describe("the command outbox", () => {
  it("writes what the commands report in one macrotask as one message, in order", async () => {
    const outbox = createCommandOutbox();
    const stream = recorder();
    outbox.attach(stream.writer);
    await outbox.send(started("a"));
    await outbox.send(output("a", 1, 10));
    await outbox.send(started("b"));
    expect(stream.messages).toEqual([]); // nothing leaves before the macrotask ends
    await tick();
    expect(stream.messages.map((m) => m.map((e) => `${e.commandId}:${e.event?.case}`))).toEqual([
      ["a:started", "a:output", "b:started"],
    ]);
    expect(outbox.queuedBytes).toBe(0);
  });

  it("splits a message at its event and byte limits", async () => {
    const outbox = createCommandOutbox({ maxBatchEvents: 3, maxBatchBytes: 1000 });
    const stream = recorder();
    outbox.attach(stream.writer);
    for (let i = 1; i <= 7; i++) await outbox.send(output("a", i, 10));
    await outbox.send(output("a", 8, 900));
    await outbox.send(output("a", 9, 5000)); // larger than a message: goes alone
    await tick();
    expect(stream.messages.map((m) => m.map((e) => sequenceOf(e)))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7],
      [8],
      [9],
    ]);
  });

  it("holds events while detached and while the stream is full, and makes senders wait beyond its bound", async () => {
    const outbox = createCommandOutbox({ maxQueuedBytes: 2048, maxBatchBytes: 1024 });
    let accepted = 0;
    const producer = (async () => {
      for (let i = 1; i <= 10; i++) {
        await outbox.send(output("a", i, 1000));
        accepted = i;
      }
    })();
    await tick();
    expect(accepted).toBe(2); // 2 × 1,064 bytes pass the 2,048-byte bound: the 3rd waits
    const stream = recorder();
    stream.state.full = true;
    outbox.attach(stream.writer);
    await tick();
    await tick();
    expect(stream.messages).toHaveLength(1); // full after the first message: the rest waits
    stream.state.full = false;
    for (let i = 0; i < 20 && accepted < 10; i++) {
      stream.drain();
      await tick();
    }
    await producer;
    await tick();
    const sequences = stream.messages.flat().map((e) => sequenceOf(e));
    expect(sequences).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("rejects a waiting send when its signal aborts, and the next sender still gets room", async () => {
    const outbox = createCommandOutbox({ maxQueuedBytes: 100 });
    await outbox.send(output("a", 1, 200)); // the queue is over its bound now
    const abort = new AbortController();
    const waiting = outbox.send(output("a", 2, 10), abort.signal);
    abort.abort(new Error("cancelled"));
    await expect(waiting).rejects.toThrow("cancelled");
    const stream = recorder();
    outbox.attach(stream.writer);
    await outbox.send(started("b"));
    await tick();
    expect(stream.messages.flat().map((e) => e.commandId)).toEqual(["a", "b"]);
  });

  it("keeps the events of a write that throws for the next stream, and writes no more to the broken one", async () => {
    const outbox = createCommandOutbox();
    let throws = 0;
    outbox.attach({
      write() {
        throws += 1;
        throw new Error("write after end");
      },
      drained: async () => undefined,
    });
    await outbox.send(started("a"));
    await outbox.send(output("a", 1, 10));
    await tick();
    await outbox.send(output("a", 2, 10));
    await tick();
    expect(throws).toBe(1);
    const next = recorder();
    outbox.attach(next.writer);
    await tick();
    expect(next.messages.flat().map((e) => `${e.event?.case}:${sequenceOf(e)}`)).toEqual([
      "started:0",
      "output:1",
      "output:2",
    ]);
    expect(outbox.queuedBytes).toBe(0);
  });

  it("writes again, ahead of newer events, what went to a stream that died (the server stores each step once)", async () => {
    const outbox = createCommandOutbox();
    const first = recorder();
    outbox.attach(first.writer);
    await outbox.send(started("a"));
    await outbox.send(output("a", 1, 10));
    await tick();
    expect(first.messages.flat()).toHaveLength(2);
    expect(outbox.replayBytes).toBeGreaterThan(10);
    outbox.detach(first.writer); // the stream died with both in a socket buffer
    await outbox.send(output("a", 2, 10)); // made while no stream was live
    const second = recorder();
    outbox.attach(second.writer);
    await tick();
    expect(second.messages.flat().map((e) => `${e.event?.case}:${sequenceOf(e)}`)).toEqual([
      "started:0",
      "output:1",
      "output:2",
    ]);
    expect(outbox.queuedBytes).toBe(0);
    // Only a different stream replays: the events now belong to the second one's replay set.
    const third = recorder();
    outbox.detach(second.writer);
    outbox.attach(third.writer);
    await tick();
    expect(third.messages.flat().map((e) => sequenceOf(e))).toEqual([0, 1, 2]);
  });

  it("keeps for a replay only what is recent enough and fits its byte bound, oldest dropped first", async () => {
    let clock = 0;
    const outbox = createCommandOutbox({
      replay: { maxBytes: 3 * (64 + 100), maxAgeMs: 1_000 },
      now: () => clock,
    });
    const first = recorder();
    outbox.attach(first.writer);
    for (let i = 1; i <= 5; i++) await outbox.send(output("a", i, 100));
    await tick();
    clock = 500;
    await outbox.send(output("b", 1, 100));
    await tick();
    const second = recorder();
    outbox.attach(second.writer);
    await tick();
    // The byte bound kept the last three written: a's 4 and 5, then b's 1.
    expect(second.messages.flat().map((e) => `${e.commandId}${sequenceOf(e)}`)).toEqual(["a4", "a5", "b1"]);
    clock = 2_000; // older than the age bound: nothing is replayed
    const third = recorder();
    outbox.attach(third.writer);
    await tick();
    expect(third.messages).toEqual([]);
    expect(outbox.replayBytes).toBe(0);
  });

  it("keeps nothing for a replay when told so", async () => {
    const outbox = createCommandOutbox({ replay: { maxBytes: 0 } });
    const first = recorder();
    outbox.attach(first.writer);
    await outbox.send(output("a", 1, 10));
    await tick();
    outbox.attach(recorder().writer);
    expect(outbox.replayBytes).toBe(0);
    expect(outbox.queuedBytes).toBe(0);
  });
});
