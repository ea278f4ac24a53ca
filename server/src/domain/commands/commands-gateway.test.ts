import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { StringValueSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import {
  type CommandEventSchema,
  CommandOutcome,
  OutputStream,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { asc, eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentPeer } from "../../../test/support/agent-channel.js";
import {
  nextCancel,
  nextCommand,
  startCommandGateway,
  stringResult,
} from "../../../test/support/command-gateway.js";
import { databaseKinds } from "../../../test/support/test-databases.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { commandOutput, commands } from "../../platform/db/schema/commands.js";
import type { CommandActor } from "./command-runner.js";

const actor: CommandActor = { kind: "system", id: null };
type Gateway = Awaited<ReturnType<typeof startCommandGateway>>;

function started(peer: AgentPeer, commandId: string) {
  peer.send({ case: "commandEvent", value: { commandId, event: { case: "started", value: {} } } });
}
function output(peer: AgentPeer, commandId: string, sequence: number, data: string | Uint8Array) {
  peer.send({
    case: "commandEvent",
    value: {
      commandId,
      event: {
        case: "output",
        value: {
          sequence: BigInt(sequence),
          stream: OutputStream.STDOUT,
          data: typeof data === "string" ? new TextEncoder().encode(data) : data,
        },
      },
    },
  });
}
function finished(
  peer: AgentPeer,
  commandId: string,
  outcome: CommandOutcome,
  extra: { result?: string; errorCode?: string; chunks?: number } = {},
) {
  peer.send({
    case: "commandEvent",
    value: {
      commandId,
      event: {
        case: "finished",
        value: {
          outcome,
          result: extra.result ? stringResult(extra.result) : undefined,
          errorCode: extra.errorCode ?? "",
          errorMessage: extra.errorCode ? `it went ${extra.errorCode}` : "",
          outputChunks: BigInt(extra.chunks ?? 0),
          finishedAt: timestampFromDate(new Date()),
        },
      },
    },
  });
}

describe.each(databaseKinds)("commands over the real agent stream on %s", (kind) => {
  let t: Gateway | undefined;
  const peers: AgentPeer[] = [];
  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.close();
    await t?.close();
    t = undefined;
  });
  const agent = async (identity: { certPem: string; keyPem: string }) => {
    const peer = await (t as Gateway).agent(identity);
    peers.push(peer);
    return peer;
  };
  const submit = (serverId: string, value: string, deadlineMs = 60_000) =>
    (t as Gateway).runner.submit({
      serverId,
      input: StringValueSchema,
      args: { value },
      deadline: new Date((t as Gateway).clock.now().getTime() + deadlineMs),
      actor,
    });
  const row = async (id: string) => {
    const [found] = await (t as Gateway).database.db.select().from(commands).where(eq(commands.id, id));
    return found;
  };
  const chunks = async (id: string) =>
    (
      await (t as Gateway).database.db
        .select()
        .from(commandOutput)
        .where(eq(commandOutput.commandId, id))
        .orderBy(asc(commandOutput.sequence))
    ).map((chunk) => [chunk.sequence, new TextDecoder().decode(chunk.data)]);

  it("queues a command while the agent is offline, delivers it once after the reconnect, and archives output and result", async () => {
    t = await startCommandGateway(kind);
    const server = await t.enrolledServer();
    const { commandId } = await submit(server.serverId, "hello");
    expect((await row(commandId))?.state).toBe("queued");

    const peer = await agent(server);
    const command = await nextCommand(peer);
    expect(command.commandId).toBe(commandId);
    expect(command.spec?.typeUrl).toBe("type.googleapis.com/google.protobuf.StringValue");
    started(peer, commandId);
    output(peer, commandId, 1, "one ");
    output(peer, commandId, 2, "two ");
    output(peer, commandId, 3, "three");
    finished(peer, commandId, CommandOutcome.SUCCEEDED, { result: "done", chunks: 3 });
    const outcome = await t.runner.wait(commandId, StringValueSchema);
    expect(outcome).toMatchObject({ state: "succeeded", errorCode: null, exitCode: 0 });
    expect(outcome.result?.value).toBe("done");
    expect(await chunks(commandId)).toEqual([
      [1, "one "],
      [2, "two "],
      [3, "three"],
    ]);
    expect(await row(commandId)).toMatchObject({ outputChunks: 3, outputBytes: 13 });

    // A later reconnect does not deliver a finished command again.
    peer.close();
    const again = await agent(server);
    submit(server.serverId, "second").catch(() => undefined);
    expect((await nextCommand(again)).commandId).not.toBe(commandId);
  });

  it("redelivers a running command after a reconnect and stores repeated chunks once", async () => {
    t = await startCommandGateway(kind);
    const server = await t.enrolledServer();
    const first = await agent(server);
    const { commandId } = await submit(server.serverId, "long");
    expect((await nextCommand(first)).commandId).toBe(commandId);
    started(first, commandId);
    output(first, commandId, 1, "a");
    output(first, commandId, 2, "b");
    await t.runner.journal.flushed();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await t.runner.journal.flushed();
    first.close();

    // The same command arrives on the new stream; the agent (at most once) answers Started again.
    const second = await agent(server);
    expect((await nextCommand(second)).commandId).toBe(commandId);
    started(second, commandId);
    output(second, commandId, 2, "b");
    output(second, commandId, 3, "c");
    finished(second, commandId, CommandOutcome.SUCCEEDED, { chunks: 3 });
    finished(second, commandId, CommandOutcome.FAILED, { errorCode: "late_duplicate" });
    expect((await t.runner.wait(commandId, StringValueSchema)).state).toBe("succeeded");
    await t.runner.journal.flushed();
    expect(await chunks(commandId)).toEqual([
      [1, "a"],
      [2, "b"],
      [3, "c"],
    ]);
    expect((await row(commandId))?.state).toBe("succeeded");
  });

  it("ignores a replay of an ended command's steps from its own agent, and refuses it from another", async () => {
    t = await startCommandGateway(kind);
    const server = await t.enrolledServer();
    const other = await t.enrolledServer();
    const first = await agent(server);
    const { commandId } = await submit(server.serverId, "short");
    await nextCommand(first);
    started(first, commandId);
    output(first, commandId, 1, "a");
    finished(first, commandId, CommandOutcome.SUCCEEDED, { chunks: 1 });
    expect((await t.runner.wait(commandId, StringValueSchema)).state).toBe("succeeded");
    first.close();

    // The agent writes again what went to the dead stream (decision 0250): stored once, still succeeded.
    const second = await agent(server);
    started(second, commandId);
    output(second, commandId, 1, "a");
    finished(second, commandId, CommandOutcome.FAILED, { errorCode: "late_duplicate", chunks: 1 });
    const probe = await submit(server.serverId, "after the replay");
    expect((await nextCommand(second)).commandId).toBe(probe.commandId); // the stream is still open
    await t.runner.journal.flushed();
    expect(await chunks(commandId)).toEqual([[1, "a"]]);
    expect((await row(commandId))?.state).toBe("succeeded");

    const stranger = await agent(other);
    output(stranger, commandId, 1, "a");
    const end = await stranger.ended;
    expect(end.code).toBe(status.INVALID_ARGUMENT);
    expect(end.details).toMatch(/is not a command of this server/);
  });

  it("cancels a queued command at once and a running one through its agent, and audits both", async () => {
    t = await startCommandGateway(kind);
    const server = await t.enrolledServer();
    const queued = await submit(server.serverId, "wait");
    await t.runner.cancel(queued.commandId, actor, "not needed");
    expect(await row(queued.commandId)).toMatchObject({ state: "cancelled", errorCode: "cancelled" });
    await expect(t.runner.cancel(queued.commandId, actor, "again")).rejects.toThrow(
      /already ended \(cancelled\)/,
    );

    const peer = await agent(server);
    const { commandId } = await submit(server.serverId, "wait");
    expect((await nextCommand(peer)).commandId).toBe(commandId);
    started(peer, commandId);
    await t.runner.cancel(commandId, actor, "operator said so");
    const cancel = await nextCancel(peer);
    expect(cancel).toMatchObject({ commandId, reason: "operator said so" });
    finished(peer, commandId, CommandOutcome.CANCELLED, { errorCode: "cancelled" });
    expect((await t.runner.wait(commandId, StringValueSchema)).state).toBe("cancelled");

    const actions = await t.database.db
      .select({ action: auditLog.action, targetId: auditLog.targetId })
      .from(auditLog);
    expect(
      actions.filter((entry) => entry.action === "command.cancel").map((entry) => entry.targetId),
    ).toEqual([queued.commandId, commandId]);
    expect(actions.filter((entry) => entry.action === "command.submit")).toHaveLength(2);
  });

  it("times out a command whose agent stays offline past its deadline, and never sends it", async () => {
    t = await startCommandGateway(kind);
    const server = await t.enrolledServer();
    const { commandId } = await submit(server.serverId, "late", 1_000);
    t.clock.advance(1_500);
    await t.runner.sweep();
    const outcome = await t.runner.wait(commandId, StringValueSchema);
    expect(outcome).toMatchObject({ state: "timed_out", errorCode: "agent_offline" });
    expect(outcome.errorMessage).toMatch(/agent was offline until the deadline.*run it again/);

    // run() turns the timeout into an error that says so.
    const running = t.runner.run({
      serverId: server.serverId,
      input: StringValueSchema,
      output: StringValueSchema,
      args: { value: "x" },
      deadline: new Date(t.clock.now().getTime() + 1_000),
      actor,
    });
    const failure = running.then(
      () => undefined,
      (error: unknown) => error,
    );
    while ((await t.database.db.select().from(commands)).length < 2)
      await new Promise((r) => setTimeout(r, 20));
    t.clock.advance(1_500);
    await t.runner.sweep();
    expect(String(await failure)).toMatch(/StringValue did not finish in time: the agent was offline/);

    // The agent that comes back later gets neither.
    const peer = await agent(server);
    const next = await submit(server.serverId, "fresh");
    expect((await nextCommand(peer)).commandId).toBe(next.commandId);
  });

  it("refuses an unknown server and a past deadline with clear errors and stores nothing", async () => {
    t = await startCommandGateway(kind);
    const server = await t.enrolledServer();
    const audited = (await t.database.db.select().from(auditLog)).length;
    const ghost = randomUUID();
    await expect(submit(ghost, "x")).rejects.toMatchObject({
      code: "not_found",
      message: expect.stringMatching(new RegExp(`server ${ghost} does not exist.*nothing was queued`)),
    });
    await expect(submit(server.serverId, "x", -5)).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(/deadline: .* has already passed/),
    });
    await expect(t.runner.cancel(randomUUID(), actor, "")).rejects.toMatchObject({ code: "not_found" });
    const [{ count }] = (await t.database.db
      .select({ count: sql<number>`count(*)::int` })
      .from(commands)) as [{ count: number }];
    expect(count).toBe(0);
    expect(await t.database.db.select().from(auditLog)).toHaveLength(audited);
  });

  it("refuses a stream that reports another server's command or an oversize chunk", async () => {
    t = await startCommandGateway(kind);
    const mine = await t.enrolledServer();
    const other = await t.enrolledServer();
    const { commandId } = await submit(other.serverId, "not yours");
    const peer = await agent(mine);
    started(peer, commandId);
    const end = await peer.ended;
    expect(end.code).toBe(status.INVALID_ARGUMENT);
    expect(end.details).toMatch(/is not a command of this server/);

    const again = await agent(mine);
    const own = await submit(mine.serverId, "big");
    await nextCommand(again);
    output(again, own.commandId, 1, new Uint8Array(64 * 1024 + 1));
    const big = await again.ended;
    expect(big.code).toBe(status.INVALID_ARGUMENT);
    expect(big.details).toMatch(/chunks are at most 65536 bytes/);
  });

  it("takes a command's events in one CommandEvents message, and refuses a batch with a bad event whole", async () => {
    t = await startCommandGateway(kind);
    const server = await t.enrolledServer();
    const peer = await agent(server);
    expect(peer.welcome.commandEventBatches).toBe(true);
    const { commandId } = await submit(server.serverId, "batched");
    await nextCommand(peer);
    const text = (value: string) => new TextEncoder().encode(value);
    const step = (id: string, event: MessageInitShape<typeof CommandEventSchema>["event"]) => ({
      commandId: id,
      event,
    });
    peer.send({
      case: "commandEvents",
      value: {
        events: [
          step(commandId, { case: "started", value: {} }),
          step(commandId, {
            case: "output",
            value: { sequence: 1n, stream: OutputStream.STDOUT, data: text("a") },
          }),
          step(commandId, {
            case: "output",
            value: { sequence: 2n, stream: OutputStream.STDERR, data: text("b") },
          }),
          step(commandId, {
            case: "finished",
            value: { outcome: CommandOutcome.SUCCEEDED, outputChunks: 2n, result: stringResult("ok") },
          }),
        ],
      },
    });
    expect((await t.runner.wait(commandId, StringValueSchema)).result?.value).toBe("ok");
    expect(await chunks(commandId)).toEqual([
      [1, "a"],
      [2, "b"],
    ]);

    const bad = await submit(server.serverId, "half bad");
    await nextCommand(peer);
    peer.send({
      case: "commandEvents",
      value: {
        events: [
          step(bad.commandId, { case: "started", value: {} }),
          step(bad.commandId, {
            case: "output",
            value: { sequence: 1n, stream: OutputStream.STDOUT, data: text("x") },
          }),
          step(bad.commandId, {
            case: "output",
            value: { sequence: 2n, stream: OutputStream.STDOUT, data: new Uint8Array(64 * 1024 + 1) },
          }),
        ],
      },
    });
    const end = await peer.ended;
    expect(end.code).toBe(status.INVALID_ARGUMENT);
    expect(end.details).toMatch(/commandEvents\.events\[2\]\.output\.data: .*chunks are at most 65536 bytes/);
    await t.runner.journal.flushed();
    expect((await row(bad.commandId))?.state).toBe("sent"); // nothing of the batch was applied
    expect(await chunks(bad.commandId)).toEqual([]);

    const empty = await agent(server);
    empty.send({ case: "commandEvents", value: { events: [] } });
    expect((await empty.ended).details).toMatch(/commandEvents\.events: is empty/);
  });

  it("fails a command whose output has a gap and tells the agent to stop it", async () => {
    t = await startCommandGateway(kind);
    const server = await t.enrolledServer();
    const peer = await agent(server);
    const { commandId } = await submit(server.serverId, "gappy");
    await nextCommand(peer);
    started(peer, commandId);
    output(peer, commandId, 1, "a");
    output(peer, commandId, 4, "d");
    expect((await nextCancel(peer)).commandId).toBe(commandId);
    const outcome = await t.runner.wait(commandId, StringValueSchema);
    expect(outcome).toMatchObject({ state: "failed", errorCode: "output_lost" });
    expect(outcome.errorMessage).toMatch(/chunks 2\.\.3 never reached the server/);
  });

  it("streams 16 MB of output through the stream with the journal's buffer bounded", async () => {
    const maxBufferedBytes = 1024 * 1024;
    t = await startCommandGateway(kind, { journal: { maxBufferedBytes, maxBatchBytes: 512 * 1024 } });
    const server = await t.enrolledServer();
    const peer = await agent(server);
    const { commandId } = await submit(server.serverId, "lots");
    await nextCommand(peer);
    started(peer, commandId);
    const seen: number[] = [];
    const live = t.runner.feed.subscribe(commandId, (e) => {
      if (e.kind === "output") seen.push(e.sequence);
    });
    const chunk = new Uint8Array(64 * 1024).fill(7);
    for (let sequence = 1; sequence <= 256; sequence++) output(peer, commandId, sequence, chunk);
    finished(peer, commandId, CommandOutcome.SUCCEEDED, { chunks: 256 });
    expect((await t.runner.wait(commandId, StringValueSchema)).state).toBe("succeeded");
    const peak = t.runner.journal.peakBufferedBytes;
    live();
    expect(await row(commandId)).toMatchObject({ outputChunks: 256, outputBytes: 256 * 64 * 1024 });
    expect(seen).toEqual(Array.from({ length: 256 }, (_, i) => i + 1));
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(maxBufferedBytes + chunk.byteLength);
  }, 60_000);
});
