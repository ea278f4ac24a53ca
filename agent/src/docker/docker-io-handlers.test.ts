import {
  DockerContainerCreateResultSchema,
  DockerContainerCreateSchema,
  DockerContainerExecResultSchema,
  DockerContainerExecSchema,
  DockerContainerLogsResultSchema,
  DockerContainerLogsSchema,
  DockerContainerStartSchema,
  DockerContainerStateSchema,
  DockerImageInspectResultSchema,
  DockerImageInspectSchema,
  DockerImageListResultSchema,
  DockerImageListSchema,
  DockerImagePullResultSchema,
  DockerImagePullSchema,
  DockerPruneResultSchema,
  DockerPruneSchema,
} from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { CommandHandler } from "../commands/command-handler.js";
import {
  connectTestDocker,
  ensureTestImage,
  recordingContext,
  removeTestContainers,
  runHandler,
  TEST_DOCKER_SOCKET,
  uniqueTestPrefix,
} from "../test/docker-test-image.js";
import { EXEC_CAPTURE_BYTES } from "./container-io-handlers.js";
import { createDockerHandlers } from "./docker-handlers.js";

const IMAGE = "ocore-test-busybox:1";
const prefix = uniqueTestPrefix("io");
let docker: Docker;
let handlers: CommandHandler[];

async function running(
  name: string,
  command: string[],
  labels: Record<string, string> = {},
): Promise<string> {
  const created = await runHandler(handlers, DockerContainerCreateSchema, DockerContainerCreateResultSchema, {
    name: `${prefix}${name}`,
    image: IMAGE,
    command,
    labels,
  });
  await runHandler(handlers, DockerContainerStartSchema, DockerContainerStateSchema, {
    container: created.id,
  });
  return created.id;
}

const exec = (container: string, command: string[]) =>
  runHandler(handlers, DockerContainerExecSchema, DockerContainerExecResultSchema, { container, command });

beforeAll(async () => {
  docker = await connectTestDocker();
  await ensureTestImage(IMAGE);
  handlers = createDockerHandlers({ socketPath: TEST_DOCKER_SOCKET });
}, 120_000);

afterAll(async () => {
  await removeTestContainers(docker, prefix);
});

describe("logs", () => {
  it("follows stdout and stderr as separate output until cancelled", async () => {
    const id = await running("logs", [
      "sh",
      "-c",
      "i=0; while :; do echo out$i; echo err$i >&2; i=$((i+1)); sleep 0.1; done",
    ]);
    const controller = new AbortController();
    const { context, output } = recordingContext(controller.signal);
    const original = context.output;
    const seen = new Promise<void>((resolve) => {
      context.output = async (stream, data) => {
        await original(stream, data);
        if (output.text("stdout").includes("out3") && output.text("stderr").includes("err3")) resolve();
      };
    });
    const following = runHandler(
      handlers,
      DockerContainerLogsSchema,
      DockerContainerLogsResultSchema,
      { container: id, follow: true },
      context,
    );
    await seen;
    controller.abort(new Error("cancelled by the test"));
    await expect(following).rejects.toThrow("cancelled by the test");
    expect(output.text("stdout")).toMatch(/^out0\nout1\nout2\nout3\n/);
    expect(output.text("stderr")).toMatch(/^err0\nerr1\nerr2\nerr3\n/);
    const chunksAtCancel = output.chunks.length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(output.chunks.length).toBe(chunksAtCancel);
  }, 30_000);

  it("returns the last lines of a log without following", async () => {
    const id = await running("tail", ["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; sleep 600"]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { context, output } = recordingContext();
    const result = await runHandler(
      handlers,
      DockerContainerLogsSchema,
      DockerContainerLogsResultSchema,
      { container: id, tailLines: 2 },
      context,
    );
    expect(output.text("stdout")).toBe("line4\nline5\n");
    expect(result.bytes).toBe(12n);
  }, 30_000);
});

describe("exec", () => {
  it("reports the exit status and both streams", async () => {
    const id = await running("exec", ["sleep", "600"]);
    const failing = await exec(id, ["sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(failing).toMatchObject({ exitCode: 3, truncated: false });
    expect(Buffer.from(failing.stdout).toString()).toBe("out\n");
    expect(Buffer.from(failing.stderr).toString()).toBe("err\n");
    expect((await exec(id, ["true"])).exitCode).toBe(0);
    // A program that does not exist: Docker's own exit status 126/127.
    expect((await exec(id, ["/no/such/program"])).exitCode).toBeGreaterThanOrEqual(126);

    const { context, output } = recordingContext();
    const big = await runHandler(
      handlers,
      DockerContainerExecSchema,
      DockerContainerExecResultSchema,
      { container: id, command: ["sh", "-c", "head -c 200000 /dev/zero"] },
      context,
    );
    expect(big.truncated).toBe(true);
    expect(big.stdout.length).toBe(EXEC_CAPTURE_BYTES);
    expect(output.chunks.reduce((sum, chunk) => sum + chunk.data.length, 0)).toBe(200_000);
  }, 30_000);

  it("ends the process in the container when the exec is cancelled", async () => {
    const id = await running("exec-cancel", ["sleep", "600"]);
    const abort = new AbortController();
    const { context } = recordingContext(abort.signal);
    const pending = runHandler(
      handlers,
      DockerContainerExecSchema,
      DockerContainerExecResultSchema,
      { container: id, command: ["sh", "-c", "echo started; exec sleep 500"] },
      context,
    );
    const sleeping = async () =>
      (await docker.getContainer(id).top()).Processes.filter((p: string[]) =>
        p.join(" ").includes("sleep 500"),
      );
    await vi.waitFor(async () => expect(await sleeping()).toHaveLength(1), { timeout: 10_000 });
    abort.abort(new Error("cancelled by the test"));
    await expect(pending).rejects.toThrow("cancelled by the test");
    expect(await sleeping()).toHaveLength(0);
  }, 30_000);

  it("refuses a stopped container as a conflict", async () => {
    const created = await runHandler(
      handlers,
      DockerContainerCreateSchema,
      DockerContainerCreateResultSchema,
      {
        name: `${prefix}exec-stopped`,
        image: IMAGE,
        command: ["true"],
      },
    );
    await expect(exec(created.id, ["true"])).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringMatching(/is not running.*Start \(or unpause\) it first/),
    });
    await expect(exec(created.id, [])).rejects.toMatchObject({ code: "invalid_argument" });
  });
});

describe("images", () => {
  it("lists and inspects the test image", async () => {
    const listed = await runHandler(handlers, DockerImageListSchema, DockerImageListResultSchema, {
      reference: "ocore-test-busybox",
    });
    expect(listed.images.flatMap((image) => image.repoTags)).toContain(IMAGE);
    const inspected = await runHandler(handlers, DockerImageInspectSchema, DockerImageInspectResultSchema, {
      image: IMAGE,
    });
    expect(inspected.repoTags).toContain(IMAGE);
    expect(JSON.parse(inspected.inspectJson)).toMatchObject({ Id: inspected.id, Os: "linux" });
    await expect(
      runHandler(handlers, DockerImageInspectSchema, DockerImageInspectResultSchema, {
        image: "ocore-nope:1",
      }),
    ).rejects.toMatchObject({ code: "not_found" });
  });

  it("refuses an invalid reference without asking Docker", async () => {
    const { context, output } = recordingContext();
    for (const image of ["Not A Reference", "UPPER:1", "name:bad tag", "a//b", ""]) {
      await expect(
        runHandler(handlers, DockerImagePullSchema, DockerImagePullResultSchema, { image }, context),
      ).rejects.toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/image/) });
    }
    expect(output.chunks).toEqual([]);
  });

  it("fails clearly when the registry cannot be reached", async () => {
    const started = Date.now();
    await expect(
      runHandler(handlers, DockerImagePullSchema, DockerImagePullResultSchema, {
        image: "127.0.0.1:1/ocore/nothing:1",
      }),
    ).rejects.toMatchObject({
      code: "registry_unreachable",
      message: expect.stringMatching(
        /127\.0\.0\.1:1\/ocore\/nothing:1 cannot be reached.*DNS, network and proxy/,
      ),
    });
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);
});

describe("prune", () => {
  it("removes only the stopped containers it is asked to", async () => {
    const label = { "ocore.test.prune": prefix };
    const stopped = await runHandler(
      handlers,
      DockerContainerCreateSchema,
      DockerContainerCreateResultSchema,
      {
        name: `${prefix}prune-stopped`,
        image: IMAGE,
        command: ["true"],
        labels: label,
      },
    );
    const alive = await running("prune-alive", ["sleep", "600"], label);
    const result = await runHandler(handlers, DockerPruneSchema, DockerPruneResultSchema, {
      containers: true,
      labelSelectors: [`ocore.test.prune=${prefix}`],
    });
    expect(result.containersDeleted).toEqual([stopped.id]);
    await expect(docker.getContainer(stopped.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await docker.getContainer(alive).inspect()).State.Running).toBe(true);
    await expect(runHandler(handlers, DockerPruneSchema, DockerPruneResultSchema, {})).rejects.toMatchObject({
      code: "invalid_argument",
    });
  }, 30_000);
});
