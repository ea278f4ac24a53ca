import { StringValueSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CommandOutcome } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentPeer } from "../../../test/support/agent-channel.js";
import {
  nextCancel,
  nextCommand,
  startCommandGateway,
  stringResult,
} from "../../../test/support/command-gateway.js";
import { commands } from "../../platform/db/schema/commands.js";
import type { CommandActor } from "./command-runner.js";

const actor: CommandActor = { kind: "system", id: null };
type Replica = Awaited<ReturnType<typeof startCommandGateway>>;

function report(peer: AgentPeer, commandId: string, event: "started" | "succeeded") {
  peer.send({
    case: "commandEvent",
    value: {
      commandId,
      event:
        event === "started"
          ? { case: "started", value: {} }
          : {
              case: "finished",
              value: {
                outcome: CommandOutcome.SUCCEEDED,
                result: stringResult("done"),
                finishedAt: timestampFromDate(new Date()),
              },
            },
    },
  });
}

/** Resolves when the promise does, or fails the test after `ms` (instead of a silent hang). */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("commands across two replicas on one PostgreSQL database", () => {
  const replicas: Replica[] = [];
  const peers: AgentPeer[] = [];
  afterEach(async () => {
    for (const peer of peers.splice(0)) peer.close();
    const [first, ...others] = replicas.splice(0);
    for (const replica of others) await replica.close();
    await first?.close(); // owns the database
  });

  /** Replica A and B (each its own gateway and runner) and an agent connected to B only. */
  const twoReplicas = async () => {
    const a = await startCommandGateway("postgres");
    replicas.push(a);
    const b = await startCommandGateway("postgres", { database: a.database });
    replicas.push(b);
    await Promise.all([a.runner.nudges?.listening, b.runner.nudges?.listening]);
    const server = await a.enrolledServer();
    const peer = await b.agent(server);
    peers.push(peer);
    const submitOnA = (value: string) =>
      a.runner.submit({
        serverId: server.serverId,
        input: StringValueSchema,
        args: { value },
        deadline: new Date(a.clock.now().getTime() + 60_000),
        actor,
      });
    const stateOf = async (id: string) =>
      (await a.database.db.select().from(commands).where(eq(commands.id, id)))[0]?.state;
    return { a, b, peer, submitOnA, stateOf };
  };

  it("delivers a command submitted on A to the agent connected to B at once (no reconnect), and A sees its end", async () => {
    const { a, peer, submitOnA } = await twoReplicas();
    const { commandId } = await submitOnA("uptime");
    const command = await within(5_000, "delivery through B", nextCommand(peer));
    expect(command.commandId).toBe(commandId);
    report(peer, commandId, "started");
    report(peer, commandId, "succeeded");
    const outcome = await within(5_000, "A seeing the end", a.runner.wait(commandId, StringValueSchema));
    expect(outcome.state).toBe("succeeded");
    expect(outcome.result?.value).toBe("done");
  });

  it("stops a running command through B when it is cancelled on A", async () => {
    const { a, b, peer, submitOnA, stateOf } = await twoReplicas();
    const { commandId } = await submitOnA("sleep 600");
    await within(5_000, "delivery through B", nextCommand(peer));
    report(peer, commandId, "started");
    await b.runner.journal.flushed();
    await expect.poll(() => stateOf(commandId), { timeout: 5_000 }).toBe("running");

    await a.runner.cancel(commandId, actor, "not needed");
    const cancel = await within(5_000, "the CancelCommand through B", nextCancel(peer));
    expect(cancel.commandId).toBe(commandId);
    expect(await stateOf(commandId)).toBe("cancelled");
  });
});
