import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyUnpack, StringValueSchema, timestampFromDate, UInt64ValueSchema } from "@bufbuild/protobuf/wkt";
import {
  type Command,
  CommandOutcome,
  CommandSchema,
  OutputStream,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { describe, expect, it } from "vitest";
import { createCaptureLogger } from "../test/capture-logger.js";
import { type CommandExecutor, createCommandExecutor, MAX_CHUNK_BYTES } from "./command-executor.js";
import { CommandError, defineHandler } from "./command-handler.js";
import { type CommandEventInit, createCommandOutbox, type OutboxWriter } from "./command-outbox.js";
import { openRecentCommands } from "./recent-commands.js";

/** Test-only handlers (not in the production registry). */
let runs = 0;
const produce = defineHandler({
  input: UInt64ValueSchema,
  output: UInt64ValueSchema,
  async run(args, context) {
    runs += 1;
    const total = Number(args.value);
    const block = new Uint8Array(100_000).fill(65);
    let sent = 0;
    while (sent < total) {
      const size = Math.min(block.byteLength, total - sent);
      await context.output("stdout", block.subarray(0, size));
      sent += size;
    }
    return { value: BigInt(sent) };
  },
});
const wait = defineHandler({
  input: StringValueSchema,
  output: StringValueSchema,
  run: (args, context) =>
    new Promise((_resolve, reject) => {
      if (args.value === "fail") {
        reject(new CommandError("disk_full", "the disk is full: free some space", 3));
        return;
      }
      context.signal.addEventListener("abort", () => reject(context.signal.reason), { once: true });
    }),
});

const ids = {
  a: "00000000-0000-4000-8000-00000000000a",
  b: "00000000-0000-4000-8000-00000000000b",
  c: "00000000-0000-4000-8000-00000000000c",
};

function command(id: string, spec: { typeUrl: string; value: Uint8Array }, deadlineInMs = 60_000): Command {
  return create(CommandSchema, {
    commandId: id,
    spec,
    deadline: timestampFromDate(new Date(Date.now() + deadlineInMs)),
  });
}
const packU64 = (value: number) => ({
  typeUrl: `type.googleapis.com/${UInt64ValueSchema.typeName}`,
  value: toBinary(UInt64ValueSchema, create(UInt64ValueSchema, { value: BigInt(value) })),
});
const packString = (value: string) => ({
  typeUrl: `type.googleapis.com/${StringValueSchema.typeName}`,
  value: toBinary(StringValueSchema, create(StringValueSchema, { value })),
});

/** A stream that records events; `capacity` messages fit before it asks the writer to wait. */
function recordingWriter(capacity = Number.POSITIVE_INFINITY) {
  const events: CommandEventInit[] = [];
  let pending = 0;
  let release: (() => void) | undefined;
  const writer: OutboxWriter = {
    write(batch) {
      events.push(...batch);
      pending += 1;
      return pending < capacity;
    },
    drained: () =>
      new Promise<void>((resolve) => {
        release = resolve;
      }),
  };
  return {
    writer,
    events,
    /** The reader took everything. */
    drain() {
      pending = 0;
      release?.();
    },
    finished(id: string) {
      return events.find((event) => event.commandId === id && event.event?.case === "finished")?.event
        ?.value as
        | { outcome: CommandOutcome; errorCode: string; errorMessage: string; exitCode: number }
        | undefined;
    },
  };
}

async function until(condition: () => unknown, what: string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > 4_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function setUp(file?: string) {
  const outbox = createCommandOutbox();
  const recent = await openRecentCommands({ file });
  const executor: CommandExecutor = createCommandExecutor({
    handlers: [produce, wait],
    recent,
    outbox,
    logger: createCaptureLogger().logger,
  });
  return { outbox, recent, executor };
}

describe("the command executor", () => {
  it("runs a command once, numbers ≤64 KiB chunks from 1, and answers a redelivery without running it again", async () => {
    const { outbox, executor } = await setUp();
    const stream = recordingWriter();
    outbox.attach(stream.writer);
    runs = 0;
    const bytes = 3 * MAX_CHUNK_BYTES + 10;
    executor.receive(command(ids.a, packU64(bytes)));
    await until(() => stream.finished(ids.a), "the end");
    const chunks = stream.events
      .filter((event) => event.event?.case === "output")
      .map((event) => event.event?.value as { sequence: bigint; data: Uint8Array; stream: OutputStream });
    expect(chunks.map((chunk) => Number(chunk.sequence))).toEqual(chunks.map((_, i) => i + 1));
    expect(
      chunks.every(
        (chunk) => chunk.data.byteLength <= MAX_CHUNK_BYTES && chunk.stream === OutputStream.STDOUT,
      ),
    ).toBe(true);
    expect(chunks.reduce((sum, chunk) => sum + chunk.data.byteLength, 0)).toBe(bytes);
    const finished = stream.finished(ids.a) as unknown as {
      outcome: CommandOutcome;
      outputChunks: bigint;
      result: Parameters<typeof anyUnpack>[0];
    };
    expect(finished.outcome).toBe(CommandOutcome.SUCCEEDED);
    expect(finished.outputChunks).toBe(BigInt(chunks.length));
    expect(anyUnpack(finished.result, UInt64ValueSchema)?.value).toBe(BigInt(bytes));

    // The same command delivered again: not run again, answered with the stored end.
    executor.receive(command(ids.a, packU64(bytes)));
    await until(
      () => stream.events.filter((event) => event.event?.case === "finished").length === 2,
      "the second answer",
    );
    expect(runs).toBe(1);
  });

  it("keeps a command's ids across restarts: an interrupted one is reported, never re-run", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ocore-commands-"));
    const file = path.join(dir, "commands.json");
    const first = await setUp(file);
    const stream = recordingWriter();
    first.outbox.attach(stream.writer);
    first.executor.receive(command(ids.b, packString("hang")));
    await until(() => stream.events.some((event) => event.event?.case === "started"), "the start");
    // The agent dies here (no stop()): the file says "running".
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual([
      expect.objectContaining({ id: ids.b, state: "running" }),
    ]);

    const second = await setUp(file);
    const after = recordingWriter();
    second.outbox.attach(after.writer);
    second.executor.receive(command(ids.b, packString("hang")));
    await until(() => after.finished(ids.b), "the answer after the restart");
    expect(after.finished(ids.b)).toMatchObject({
      outcome: CommandOutcome.FAILED,
      errorCode: "agent_restarted",
    });
    expect(after.events.some((event) => event.event?.case === "started")).toBe(false);
    expect(second.executor.running).toBe(0);
    await first.executor.stop();
  });

  it("cancels, times out, reports handler errors and refuses unknown kinds with clear codes", async () => {
    const { outbox, executor } = await setUp();
    const stream = recordingWriter();
    outbox.attach(stream.writer);
    executor.receive(command(ids.a, packString("hang")));
    executor.receive(command(ids.b, packString("hang"), 150));
    executor.receive(command(ids.c, packString("fail")));
    await until(() => stream.events.filter((e) => e.event?.case === "started").length === 3, "three starts");
    executor.cancel(ids.a, "changed my mind");
    await until(
      () => stream.finished(ids.a) && stream.finished(ids.b) && stream.finished(ids.c),
      "three ends",
    );
    expect(stream.finished(ids.a)).toMatchObject({
      outcome: CommandOutcome.CANCELLED,
      errorCode: "cancelled",
    });
    expect(stream.finished(ids.a)?.errorMessage).toContain("changed my mind");
    expect(stream.finished(ids.b)).toMatchObject({
      outcome: CommandOutcome.TIMED_OUT,
      errorCode: "deadline_exceeded",
    });
    expect(stream.finished(ids.c)).toMatchObject({
      outcome: CommandOutcome.FAILED,
      errorCode: "disk_full",
      exitCode: 3,
    });

    const unknown = "00000000-0000-4000-8000-0000000000dd";
    executor.receive(
      command(unknown, {
        typeUrl: "type.googleapis.com/ocore.agent.v1.NoSuchThing",
        value: new Uint8Array(),
      }),
    );
    const late = "00000000-0000-4000-8000-0000000000ee";
    executor.receive(command(late, packString("hang"), -1000));
    await until(() => stream.finished(unknown) && stream.finished(late), "two refusals");
    expect(stream.finished(unknown)).toMatchObject({
      outcome: CommandOutcome.FAILED,
      errorCode: "unknown_command",
    });
    expect(stream.finished(unknown)?.errorMessage).toContain("ocore.agent.v1.NoSuchThing");
    expect(stream.finished(late)).toMatchObject({
      outcome: CommandOutcome.TIMED_OUT,
      errorCode: "deadline_exceeded",
    });
  });

  it("loads lazy handlers on the first command they take, once; a failed load fails that command only", async () => {
    const outbox = createCommandOutbox();
    let loads = 0;
    const executor = createCommandExecutor({
      handlers: [wait],
      loaders: [
        async () => {
          loads += 1;
          if (loads === 1) throw new Error("no such module");
          return [produce];
        },
      ],
      recent: await openRecentCommands({}),
      outbox,
      logger: createCaptureLogger().logger,
    });
    const stream = recordingWriter();
    outbox.attach(stream.writer);
    executor.receive(command(ids.c, packString("fail"))); // an eager handler: nothing is loaded
    await until(() => stream.finished(ids.c), "the eager command's end");
    expect(loads).toBe(0);

    executor.receive(command(ids.a, packU64(10)));
    await until(() => stream.finished(ids.a), "the end after the failed load");
    expect(stream.finished(ids.a)).toMatchObject({
      outcome: CommandOutcome.FAILED,
      errorCode: "agent_error",
    });
    expect(stream.finished(ids.a)?.errorMessage).toContain("no such module");

    executor.receive(command(ids.b, packU64(10)));
    const unknown = "00000000-0000-4000-8000-0000000000dd";
    executor.receive(
      command(unknown, { typeUrl: "type.googleapis.com/x.NoSuchThing", value: new Uint8Array() }),
    );
    await until(() => stream.finished(ids.b) && stream.finished(unknown), "two more ends");
    expect(stream.finished(ids.b)).toMatchObject({ outcome: CommandOutcome.SUCCEEDED });
    expect(stream.finished(unknown)).toMatchObject({ errorCode: "unknown_command" });
    expect(loads).toBe(2);
  });

  it("slows a command to the stream's pace and holds a bounded amount of its events while disconnected", async () => {
    const { outbox, executor } = await setUp();
    executor.receive(command(ids.c, packU64(10 * MAX_CHUNK_BYTES)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(executor.running).toBe(1); // no stream: nothing is sent, and only a bounded amount waits
    const held = outbox.queuedBytes;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(256 * 1024 + MAX_CHUNK_BYTES + 64);
    const stream = recordingWriter(2);
    outbox.attach(stream.writer);
    await until(() => stream.events.length >= 2, "the first writes");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const written = stream.events.length;
    expect(stream.finished(ids.c)).toBeUndefined(); // the stream is full: the command waits
    expect(outbox.queuedBytes).toBeLessThanOrEqual(256 * 1024 + MAX_CHUNK_BYTES + 64);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stream.events.length).toBe(written);
    for (let i = 0; i < 40 && !stream.finished(ids.c); i++) {
      stream.drain();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await until(() => stream.finished(ids.c), "the end");
    const chunks = stream.events.flatMap((event) =>
      event.event?.case === "output" ? [event.event.value] : [],
    );
    // 100,000-byte writes (65,536 + 34,464 each), then 55,360: 13 chunks, numbered in order.
    expect(chunks.map((chunk) => Number(chunk.sequence))).toEqual(
      Array.from({ length: 13 }, (_, i) => i + 1),
    );
  });
});
