import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { InstanceStatus } from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import type Docker from "dockerode";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEngineClient } from "../docker/engine-client.js";
import {
  connectTestDocker,
  DEFAULT_TEST_IMAGE,
  ensureTestImage,
  removeTestContainers,
  TEST_DOCKER_SOCKET,
  uniqueTestPrefix,
} from "../test/docker-test-image.js";
import { type InstanceRole, instanceLabels } from "./instance-layout.js";
import { createInstanceWatch, type InstanceStatesInit, type InstanceWatch } from "./instance-watch.js";

/**
 * A unix socket in front of the real dockerd that the test can take down and bring back: what
 * the agent sees when dockerd restarts (its event stream ends, new connections are refused).
 */
async function createDockerProxy(directory: string) {
  const socketPath = path.join(directory, "docker.sock");
  const open = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(TEST_DOCKER_SOCKET);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on("close", () => open.delete(socket));
      socket.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    takeDown() {
      down = true;
      for (const socket of open) socket.destroy();
    },
    bringBack() {
      down = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const prefix = uniqueTestPrefix("watch");
let docker: Docker;
let directory: string;
let proxy: Awaited<ReturnType<typeof createDockerProxy>>;

/** Three sleeping busybox containers labelled as one oCore instance. */
async function createLabelledInstance(): Promise<{
  id: string;
  containers: Record<InstanceRole, Docker.Container>;
}> {
  const id = crypto.randomUUID();
  const containers = {} as Record<InstanceRole, Docker.Container>;
  for (const role of ["db", "mail", "odoo"] as const) {
    const container = await docker.createContainer({
      name: `${prefix}${id.slice(0, 8)}-${role}`,
      Image: DEFAULT_TEST_IMAGE,
      Cmd: ["sleep", "3600"],
      Labels: instanceLabels(id, role),
      HostConfig: { Init: false },
    });
    await container.start();
    containers[role] = container;
  }
  return { id, containers };
}

/** Collects what the watch writes, as the session's writer would send it. */
function recordingWriter() {
  const messages: InstanceStatesInit[] = [];
  return {
    messages,
    write(states: InstanceStatesInit) {
      messages.push(states);
      return true;
    },
    drained: () => Promise.resolve(),
    /** The newest status of an instance in any message. */
    latest(instanceId: string): InstanceStatus | undefined {
      for (const message of [...messages].reverse()) {
        const found = (message.instances as InstanceStatus[] | undefined)?.find(
          (status) => status.instanceId === instanceId,
        );
        if (found) return found;
      }
      return undefined;
    },
    snapshots: () => messages.filter((message) => message.snapshotEnd !== undefined),
  };
}

const stateOf = (status: InstanceStatus | undefined, role: string) =>
  status?.containers.find((container) => container.role === role);

describe("instance watch on the real dockerd", () => {
  let watch: InstanceWatch | undefined;

  beforeAll(async () => {
    docker = await connectTestDocker();
    await ensureTestImage();
    directory = await mkdtemp(path.join(os.tmpdir(), "ocore-watch-"));
    proxy = await createDockerProxy(directory);
  }, 120_000);

  afterAll(async () => {
    await watch?.stop();
    await removeTestContainers(docker, prefix);
    await proxy?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it("sends a snapshot on attach, then a killed container as exited with its code, then a removed instance as empty", async () => {
    const instance = await createLabelledInstance();
    const writer = recordingWriter();
    watch = createInstanceWatch({
      engine: createEngineClient(proxy.socketPath),
      logger: pino({ level: "silent" }),
      minGapMs: 200,
    });
    watch.start();
    watch.attach(writer);

    await expect
      .poll(() => writer.snapshots().at(-1)?.snapshotEnd?.instanceIds, { timeout: 15_000 })
      .toContain(instance.id);
    expect(writer.latest(instance.id)?.containers.map((container) => container.state)).toEqual([
      "running",
      "running",
      "running",
    ]);

    const before = writer.messages.length;
    const killedAt = Date.now();
    await instance.containers.odoo.kill();
    await expect
      .poll(() => stateOf(writer.latest(instance.id), "odoo"), { timeout: 15_000, interval: 50 })
      .toMatchObject({ state: "exited", exitCode: 137 });
    const latencyMs = Date.now() - killedAt;
    expect(latencyMs).toBeLessThan(5_000);
    // Coalesced: the kill's events (kill, die) produce one message or two at most, not one per event.
    expect(writer.messages.length - before).toBeLessThanOrEqual(2);
    expect(stateOf(writer.latest(instance.id), "db")?.state).toBe("running");

    for (const container of Object.values(instance.containers)) await container.remove({ force: true });
    await expect
      .poll(() => writer.latest(instance.id)?.containers.length, { timeout: 15_000, interval: 50 })
      .toBe(0);
  }, 60_000);

  it("follows Docker again after its event stream broke, with a snapshot that shows what changed meanwhile", async () => {
    await watch?.stop();
    const instance = await createLabelledInstance();
    const writer = recordingWriter();
    watch = createInstanceWatch({
      engine: createEngineClient(proxy.socketPath),
      logger: pino({ level: "silent" }),
      minGapMs: 100,
      retryMs: [100, 400],
    });
    watch.start();
    watch.attach(writer);
    await expect
      .poll(() => writer.snapshots().at(-1)?.snapshotEnd?.instanceIds, { timeout: 15_000 })
      .toContain(instance.id);

    // dockerd "restarts": the stream ends and, while it is down, a container stops unseen.
    proxy.takeDown();
    await instance.containers.mail.stop({ t: 0 });
    const snapshotsBefore = writer.snapshots().length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stateOf(writer.latest(instance.id), "mail")?.state).toBe("running");
    proxy.bringBack();

    await expect.poll(() => writer.snapshots().length, { timeout: 15_000 }).toBeGreaterThan(snapshotsBefore);
    expect(stateOf(writer.latest(instance.id), "mail")).toMatchObject({ state: "exited" });

    // And events flow again on the new stream.
    await instance.containers.db.kill();
    await expect
      .poll(() => stateOf(writer.latest(instance.id), "db"), { timeout: 15_000, interval: 50 })
      .toMatchObject({ state: "exited", exitCode: 137 });
  }, 60_000);

  it("sends a crash-looping instance at most once per gap, however many events Docker makes", async () => {
    await watch?.stop();
    const id = crypto.randomUUID();
    const writer = recordingWriter();
    watch = createInstanceWatch({
      engine: createEngineClient(proxy.socketPath),
      logger: pino({ level: "silent" }),
      minGapMs: 1_000,
    });
    watch.start();
    watch.attach(writer);
    await expect.poll(() => writer.snapshots().length, { timeout: 15_000 }).toBeGreaterThan(0);
    const looping = await docker.createContainer({
      name: `${prefix}${id.slice(0, 8)}-odoo`,
      Image: DEFAULT_TEST_IMAGE,
      Cmd: ["sh", "-c", "exit 3"],
      Labels: instanceLabels(id, "odoo"),
      HostConfig: { RestartPolicy: { Name: "always" } },
    });
    const startedAt = Date.now();
    await looping.start();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const info = await looping.inspect();
    await looping.remove({ force: true });
    const elapsedS = (Date.now() - startedAt) / 1000;
    const messages = writer.messages.filter((message) =>
      (message.instances as InstanceStatus[] | undefined)?.some((status) => status.instanceId === id),
    );
    // Docker restarted it several times (each a start and a die event)...
    expect(info.RestartCount).toBeGreaterThanOrEqual(3);
    // ...but the watch sent at most one message per second for it.
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.length).toBeLessThanOrEqual(Math.ceil(elapsedS) + 1);
  }, 60_000);

  it("waits while no stream is attached and sends a fresh snapshot on the next attach", async () => {
    await watch?.stop();
    const instance = await createLabelledInstance();
    const first = recordingWriter();
    watch = createInstanceWatch({
      engine: createEngineClient(proxy.socketPath),
      logger: pino({ level: "silent" }),
      minGapMs: 100,
    });
    watch.start();
    watch.attach(first);
    await expect
      .poll(() => first.snapshots().at(-1)?.snapshotEnd?.instanceIds, { timeout: 15_000 })
      .toContain(instance.id);
    watch.detach(first);
    const sent = first.messages.length;
    await instance.containers.odoo.kill();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(first.messages.length).toBe(sent);

    const second = recordingWriter();
    watch.attach(second);
    await expect
      .poll(() => stateOf(second.latest(instance.id), "odoo"), { timeout: 15_000 })
      .toMatchObject({ state: "exited", exitCode: 137 });
    expect(second.snapshots().length).toBeGreaterThan(0);
  }, 60_000);
});
