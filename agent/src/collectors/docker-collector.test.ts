import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaptureLogger } from "../test/capture-logger.js";
import { createContainerUsageReader } from "./container-cgroup.js";
import { createDockerCollector, createDockerEngine } from "./docker-collector.js";

const run = promisify(execFile);

async function sysFixture(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "ocore-sys-"));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
  return root;
}

describe("container cgroup reader", () => {
  it("reads cgroup v2 files under the systemd driver's scope", async () => {
    const scope = "fs/cgroup/system.slice/docker-abc.scope";
    const root = await sysFixture({
      [`${scope}/cpu.stat`]: "usage_usec 2500000\nuser_usec 2000000\n",
      [`${scope}/memory.current`]: "104857600\n",
      [`${scope}/memory.max`]: "max\n",
      [`${scope}/memory.stat`]: "anon 1000\ninactive_file 4857600\n",
    });
    expect(await createContainerUsageReader({ sysRoot: root }).read("abc")).toEqual({
      cpuNanos: 2_500_000_000,
      memoryBytes: 100_000_000n,
      memoryLimitBytes: 0n,
    });
  });

  it("falls back to cgroup v1 cpuacct and memory hierarchies", async () => {
    const root = await sysFixture({
      "fs/cgroup/cpuacct/docker/def/cpuacct.usage": "123456789\n",
      "fs/cgroup/memory/docker/def/memory.usage_in_bytes": "2000000\n",
      "fs/cgroup/memory/docker/def/memory.limit_in_bytes": "9223372036854771712\n",
      "fs/cgroup/memory/docker/def/memory.stat": "cache 0\ntotal_inactive_file 1000000\n",
      "fs/cgroup/memory/docker/ghi/memory.limit_in_bytes": "536870912\n",
    });
    const reader = createContainerUsageReader({ sysRoot: root });
    expect(await reader.read("def")).toEqual({
      cpuNanos: 123_456_789,
      memoryBytes: 1_000_000n,
      memoryLimitBytes: 0n,
    });
    expect(await reader.read("missing")).toBeUndefined();
  });
});

describe("docker collector", () => {
  it("counts containers by state and computes CPU from cgroup deltas", async () => {
    const root = await sysFixture({
      "fs/cgroup/docker/c1/cpu.stat": "usage_usec 1000000\n",
      "fs/cgroup/docker/c1/memory.current": "5000\n",
      "fs/cgroup/docker/c1/memory.max": "1048576\n",
    });
    let now = 0;
    const { logger } = createCaptureLogger();
    const collector = createDockerCollector({
      logger,
      sysRoot: root,
      now: () => now,
      engine: {
        listContainers: async () => [
          { id: "c1", name: "odoo", state: "running" },
          { id: "c2", name: "db", state: "exited" },
          { id: "c3", name: "new", state: "created" },
          { id: "c4", name: "p", state: "paused" },
          { id: "c5", name: "r", state: "restarting" },
        ],
      },
    });
    const first = await collector.collect();
    expect(first).toMatchObject({ running: 1, paused: 1, stopped: 2, restarting: 1 });
    expect(first?.containers[0]?.cpuPercent).toBe(0);
    await writeFile(path.join(root, "fs/cgroup/docker/c1/cpu.stat"), "usage_usec 1500000\n");
    now = 1000;
    const second = await collector.collect();
    // 0.5 s of CPU in 1 s of wall time: half a core.
    expect(second?.containers).toEqual([
      {
        id: "c1",
        name: "odoo",
        state: "running",
        cpuPercent: 50,
        memoryBytes: 5000n,
        memoryLimitBytes: 1_048_576n,
      },
    ]);
  });

  it("returns no docker data when the daemon does not answer, and logs that once", async () => {
    const { logger, lines } = createCaptureLogger();
    const collector = createDockerCollector({
      logger,
      engine: createDockerEngine(path.join(os.tmpdir(), "no-such-docker.sock"), 500),
    });
    expect(await collector.collect()).toBeUndefined();
    expect(await collector.collect()).toBeUndefined();
    expect(lines.filter((line) => String(line.msg).startsWith("docker does not answer"))).toHaveLength(1);
  });
});

describe("docker collector against this machine's Docker daemon", () => {
  const docker = new Docker({ socketPath: "/var/run/docker.sock" });
  const image = "ocore-agent-test-busy:1";
  let container: Docker.Container | undefined;

  beforeAll(async () => {
    try {
      await docker.ping();
    } catch (error) {
      throw new Error(
        `Docker is required for this test and does not answer on /var/run/docker.sock (${String(error)}). Start dockerd.`,
      );
    }
    // An image from this host's own /bin/sh, so the test needs no registry.
    const rootfs = await mkdtemp(path.join(os.tmpdir(), "ocore-rootfs-"));
    const { stdout } = await run("ldd", ["/bin/sh"]);
    const files = ["/bin/sh", ...(stdout.match(/\/\S+/g) ?? [])];
    for (const file of files) {
      await mkdir(path.join(rootfs, path.dirname(file)), { recursive: true });
      await run("cp", ["-L", file, path.join(rootfs, file)]);
    }
    await run("sh", ["-c", `tar -C "${rootfs}" -c . | docker import - ${image}`]);
    container = await docker.createContainer({
      Image: image,
      Cmd: ["/bin/sh", "-c", "while :; do :; done"],
      name: `ocore-agent-test-${process.pid}`,
      HostConfig: { Memory: 64 * 1024 * 1024 },
    });
    await container.start();
  }, 60_000);

  afterAll(async () => {
    await container?.remove({ force: true });
  });

  it("sees the running container with its CPU and memory from cgroup files", async () => {
    const { logger } = createCaptureLogger();
    const collector = createDockerCollector({ engine: createDockerEngine("/var/run/docker.sock"), logger });
    await collector.collect();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const started = performance.now();
    const reading = await collector.collect();
    const elapsedMs = performance.now() - started;
    const mine = reading?.containers.find((entry) => entry.id === container?.id);
    expect(reading?.running).toBeGreaterThanOrEqual(1);
    expect(mine?.name).toBe(`ocore-agent-test-${process.pid}`);
    // A busy loop: most of a core, shared with whatever else runs here.
    expect(mine?.cpuPercent).toBeGreaterThan(10);
    expect(mine?.cpuPercent).toBeLessThanOrEqual(205);
    expect(mine?.memoryBytes).toBeGreaterThan(0n);
    expect(mine?.memoryLimitBytes).toBe(64n * 1024n * 1024n);
    // The point of reading cgroups: far below the stats API's ~2 s per container.
    expect(elapsedMs).toBeLessThan(500);
  }, 30_000);
});
