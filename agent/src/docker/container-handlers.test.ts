import {
  DockerContainerCreateResultSchema,
  DockerContainerCreateSchema,
  DockerContainerInspectResultSchema,
  DockerContainerInspectSchema,
  DockerContainerListResultSchema,
  DockerContainerListSchema,
  DockerContainerRemoveResultSchema,
  DockerContainerRemoveSchema,
  DockerContainerRestartSchema,
  DockerContainerStartSchema,
  DockerContainerStateSchema,
  DockerContainerStatsResultSchema,
  DockerContainerStatsSchema,
  DockerContainerStopSchema,
} from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandHandler } from "../commands/command-handler.js";
import {
  connectTestDocker,
  ensureTestImage,
  removeTestContainers,
  runHandler,
  TEST_DOCKER_SOCKET,
  uniqueTestPrefix,
} from "../test/docker-test-image.js";
import { createDockerHandlers } from "./docker-handlers.js";

const IMAGE = "ocore-test-busybox:1";
const prefix = uniqueTestPrefix("containers");
let docker: Docker;
let handlers: CommandHandler[];

const createContainer = (
  name: string,
  extra: Partial<{ command: string[]; labels: Record<string, string> }> = {},
) =>
  runHandler(handlers, DockerContainerCreateSchema, DockerContainerCreateResultSchema, {
    name: `${prefix}${name}`,
    image: IMAGE,
    command: extra.command ?? ["sleep", "600"],
    labels: extra.labels ?? {},
  });
const start = (container: string) =>
  runHandler(handlers, DockerContainerStartSchema, DockerContainerStateSchema, { container });
const stop = (container: string) =>
  runHandler(handlers, DockerContainerStopSchema, DockerContainerStateSchema, {
    container,
    timeoutSeconds: 1,
  });

beforeAll(async () => {
  docker = await connectTestDocker();
  await ensureTestImage(IMAGE);
  handlers = createDockerHandlers({ socketPath: TEST_DOCKER_SOCKET });
}, 120_000);

afterAll(async () => {
  await removeTestContainers(docker, prefix);
});

describe("container lifecycle against the real Docker daemon", () => {
  it("creates, starts, stops, restarts and removes a container", async () => {
    const created = await runHandler(
      handlers,
      DockerContainerCreateSchema,
      DockerContainerCreateResultSchema,
      {
        name: `${prefix}life`,
        image: IMAGE,
        command: ["sleep", "600"],
        env: { GREETING: "hello" },
        labels: { "ocore.test": prefix },
        ports: [{ containerPort: 8069, protocol: "tcp" }],
        memoryLimitBytes: 64n * 1024n * 1024n,
        cpuLimitMillicores: 500,
      },
    );
    expect(created.id).toMatch(/^[0-9a-f]{64}$/);

    const inspected = await runHandler(
      handlers,
      DockerContainerInspectSchema,
      DockerContainerInspectResultSchema,
      {
        container: `${prefix}life`,
      },
    );
    expect(inspected.state).toBe("created");
    const document = JSON.parse(inspected.inspectJson) as {
      Config: { Env: string[] };
      HostConfig: { Memory: number; NanoCpus: number };
    };
    expect(document.Config.Env).toContain("GREETING=hello");
    expect(document.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(document.HostConfig.NanoCpus).toBe(500_000_000);

    expect((await start(`${prefix}life`)).state).toBe("running");
    // Starting a running container is not an error: the state is what was asked for.
    expect((await start(created.id)).state).toBe("running");

    const listed = await runHandler(handlers, DockerContainerListSchema, DockerContainerListResultSchema, {
      namePrefix: prefix,
      labelSelectors: [`ocore.test=${prefix}`],
    });
    expect(listed.containers.map((container) => container.name)).toEqual([`${prefix}life`]);
    expect(listed.containers[0]?.ports[0]).toMatchObject({ containerPort: 8069, protocol: "tcp" });

    const stopped = await stop(`${prefix}life`);
    expect(stopped.state).toBe("exited");
    expect((await stop(`${prefix}life`)).state).toBe("exited");

    const restarted = await runHandler(handlers, DockerContainerRestartSchema, DockerContainerStateSchema, {
      container: `${prefix}life`,
      timeoutSeconds: 1,
    });
    expect(restarted.state).toBe("running");

    const removed = await runHandler(
      handlers,
      DockerContainerRemoveSchema,
      DockerContainerRemoveResultSchema,
      {
        container: `${prefix}life`,
        force: true,
      },
    );
    expect(removed.id).toBe(created.id);
    await expect(docker.getContainer(created.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  }, 60_000);

  it("refuses a container that does not exist with not_found", async () => {
    await expect(start(`${prefix}missing`)).rejects.toMatchObject({
      code: "not_found",
      message: expect.stringMatching(/does not exist on this host.*List the host's containers/),
    });
    await expect(
      runHandler(handlers, DockerContainerCreateSchema, DockerContainerCreateResultSchema, {
        name: `${prefix}no-image`,
        image: "ocore-test-no-such-image:1",
      }),
    ).rejects.toMatchObject({
      code: "not_found",
      message: expect.stringMatching(/^Image ocore-test-no-such-image:1 is not on this host.*Pull it first/),
    });
  });

  it("reports a name in use and removing a running container as conflicts", async () => {
    await createContainer("dup");
    await expect(createContainer("dup")).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringMatching(/already in use.*Choose another name/),
    });
    await start(`${prefix}dup`);
    await expect(
      runHandler(handlers, DockerContainerRemoveSchema, DockerContainerRemoveResultSchema, {
        container: `${prefix}dup`,
      }),
    ).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringMatching(/Stop it first, or remove it with force/),
    });
  }, 30_000);

  it("samples a running container's usage and refuses a stopped one", async () => {
    await createContainer("stats", {
      command: ["sh", "-c", "head -c 8000000 /dev/zero > /tmp/fill; sleep 600"],
    });
    await start(`${prefix}stats`);
    const sample = await runHandler(handlers, DockerContainerStatsSchema, DockerContainerStatsResultSchema, {
      container: `${prefix}stats`,
    });
    expect(sample.pids).toBeGreaterThanOrEqual(1n);
    expect(sample.memoryUsageBytes).toBeGreaterThan(0n);
    expect(sample.memoryLimitBytes).toBeGreaterThan(sample.memoryUsageBytes);
    expect(sample.cpuPercent).toBeGreaterThanOrEqual(0);

    await stop(`${prefix}stats`);
    await expect(
      runHandler(handlers, DockerContainerStatsSchema, DockerContainerStatsResultSchema, {
        container: `${prefix}stats`,
      }),
    ).rejects.toMatchObject({
      code: "conflict",
      message: expect.stringMatching(/is exited.*Start it first/),
    });
  }, 30_000);

  it("validates inputs before reaching Docker", async () => {
    const invalid = { code: "invalid_argument" };
    await expect(start("../etc/passwd")).rejects.toMatchObject(invalid);
    await expect(start("")).rejects.toMatchObject(invalid);
    const base = { name: `${prefix}bad`, image: IMAGE };
    const cases = [
      { ...base, name: "-flag" },
      { ...base, image: "UPPER/case:1" },
      { ...base, env: { "1BAD": "x" } },
      { ...base, ports: [{ containerPort: 70000 }] },
      { ...base, ports: [{ containerPort: 80, protocol: "icmp" }] },
      { ...base, mounts: [{ source: "/srv/../etc", target: "/data" }] },
      { ...base, mounts: [{ source: "data", target: "relative" }] },
      { ...base, memoryLimitBytes: 1024n },
      { ...base, cpuLimitMillicores: 1 },
    ];
    for (const spec of cases) {
      await expect(
        runHandler(handlers, DockerContainerCreateSchema, DockerContainerCreateResultSchema, spec),
      ).rejects.toMatchObject(invalid);
    }
    await expect(
      runHandler(handlers, DockerContainerStopSchema, DockerContainerStateSchema, {
        container: "x",
        timeoutSeconds: 5000,
      }),
    ).rejects.toMatchObject(invalid);
  });

  it("says Docker is unavailable when its socket does not answer", async () => {
    const offline = createDockerHandlers({ socketPath: "/nonexistent/docker.sock" });
    await expect(
      runHandler(offline, DockerContainerListSchema, DockerContainerListResultSchema, {}),
    ).rejects.toMatchObject({
      code: "docker_unavailable",
      message: expect.stringMatching(
        /does not answer on \/nonexistent\/docker.sock.*OCORE_AGENT_DOCKER_SOCKET/,
      ),
    });
  });
});
