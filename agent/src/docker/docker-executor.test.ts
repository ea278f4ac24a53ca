import { randomUUID } from "node:crypto";
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { type Any, anyUnpack, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CommandOutcome,
  CommandSchema,
  OutputStream,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import {
  DockerContainerExecResultSchema,
  DockerContainerExecSchema,
  DockerContainerLogsSchema,
  DockerContainerStartSchema,
} from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCommandExecutor } from "../commands/command-executor.js";
import { type CommandEventInit, createCommandOutbox } from "../commands/command-outbox.js";
import { openRecentCommands } from "../commands/recent-commands.js";
import { createCaptureLogger } from "../test/capture-logger.js";
import {
  connectTestDocker,
  ensureTestImage,
  removeTestContainers,
  uniqueTestPrefix,
} from "../test/docker-test-image.js";
import { createDockerHandlers } from "./docker-handlers.js";

/** The production registry's Docker handlers run by the real executor, as the server's commands. */
const IMAGE = "ocore-test-busybox:1";
const prefix = uniqueTestPrefix("executor");
let docker: Docker;
let containerId = "";

async function setUp() {
  const events: CommandEventInit[] = [];
  const outbox = createCommandOutbox();
  outbox.attach({ write: (batch) => events.push(...batch) > 0, drained: async () => undefined });
  const executor = createCommandExecutor({
    handlers: createDockerHandlers(),
    recent: await openRecentCommands(),
    outbox,
    logger: createCaptureLogger().logger,
  });
  const send = <I extends DescMessage>(input: I, args: MessageInitShape<I>) => {
    const commandId = randomUUID();
    executor.receive(
      create(CommandSchema, {
        commandId,
        spec: {
          typeUrl: `type.googleapis.com/${input.typeName}`,
          value: toBinary(input, create(input, args)),
        },
        deadline: timestampFromDate(new Date(Date.now() + 60_000)),
      }),
    );
    return commandId;
  };
  const of = (commandId: string) => events.filter((event) => event.commandId === commandId);
  const finished = async (commandId: string) => {
    await expect
      .poll(() => of(commandId).some((event) => event.event?.case === "finished"), { timeout: 15_000 })
      .toBe(true);
    const end = of(commandId).find((event) => event.event?.case === "finished")?.event?.value as {
      outcome: CommandOutcome;
      errorCode?: string;
      errorMessage?: string;
      result?: Any;
    };
    return end;
  };
  return { executor, send, of, finished };
}

beforeAll(async () => {
  docker = await connectTestDocker();
  await ensureTestImage(IMAGE);
  const container = await docker.createContainer({
    name: `${prefix}busy`,
    Image: IMAGE,
    Cmd: ["sh", "-c", "while :; do echo tick; sleep 0.1; done"],
  });
  await container.start();
  containerId = container.id;
}, 120_000);

afterAll(async () => {
  await removeTestContainers(docker, prefix);
});

describe("Docker commands through the agent's executor", () => {
  it("runs an exec and reports its result and output", async () => {
    const { send, of, finished } = await setUp();
    const id = send(DockerContainerExecSchema, {
      container: containerId,
      command: ["sh", "-c", "echo hi; exit 4"],
    });
    const end = await finished(id);
    expect(end.outcome).toBe(CommandOutcome.SUCCEEDED);
    const result = end.result ? anyUnpack(end.result, DockerContainerExecResultSchema) : undefined;
    expect(result?.exitCode).toBe(4);
    const output = of(id).find((event) => event.event?.case === "output")?.event?.value as {
      stream: OutputStream;
      data: Uint8Array;
    };
    expect(output.stream).toBe(OutputStream.STDOUT);
    expect(Buffer.from(output.data).toString()).toBe("hi\n");
  });

  it("reports Docker's refusal with the handler's code", async () => {
    const { send, finished } = await setUp();
    const end = await finished(send(DockerContainerStartSchema, { container: `${prefix}missing` }));
    expect(end).toMatchObject({ outcome: CommandOutcome.FAILED, errorCode: "not_found" });
  });

  it("stops following a log when the server cancels it", async () => {
    const { executor, send, of, finished } = await setUp();
    const id = send(DockerContainerLogsSchema, { container: containerId, follow: true, tailLines: 1 });
    await expect
      .poll(() => of(id).filter((event) => event.event?.case === "output").length)
      .toBeGreaterThan(2);
    executor.cancel(id, "the user closed the log");
    const end = await finished(id);
    expect(end.outcome).toBe(CommandOutcome.CANCELLED);
    expect(executor.running).toBe(0);
  }, 30_000);
});
