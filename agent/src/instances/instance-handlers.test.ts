import { createHash } from "node:crypto";
import net from "node:net";
import {
  HostListeningPortsResultSchema,
  HostListeningPortsSchema,
  InstanceBackedUpSchema,
  InstanceBackupSchema,
  InstanceCreatedSchema,
  InstanceCreateSchema,
  InstanceInspectedSchema,
  InstanceInspectSchema,
  InstanceLogsEndedSchema,
  InstanceLogsSchema,
  InstanceRemovedSchema,
  InstanceRemoveSchema,
  InstanceRestartSchema,
  InstanceRestoredSchema,
  InstanceRestoreSchema,
  InstanceStartSchema,
  InstanceStopSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandHandler } from "../commands/command-handler.js";
import { createDockerDeps } from "../docker/docker-deps.js";
import {
  connectTestDocker,
  recordingContext,
  runHandler,
  TEST_DOCKER_SOCKET,
} from "../test/docker-test-image.js";
import { ensureInstanceTestImages, type InstanceTestImages } from "../test/instance-test-images.js";
import type { BackupTransfer } from "./backup-transfer.js";
import { createInstanceHandlers } from "./instance-handlers.js";
import { INSTANCE_LABEL, ODOO_DATA_PATH } from "./instance-layout.js";

/** The server's side of transfers, in memory: one stored archive per backup id. */
function memoryTransfer(): BackupTransfer & { stored: Map<string, Buffer> } {
  const stored = new Map<string, Buffer>();
  return {
    stored,
    async upload(ticket, archive) {
      const parts: Buffer[] = [];
      for await (const chunk of archive) parts.push(Buffer.from(chunk));
      const bytes = Buffer.concat(parts);
      stored.set(ticket.backupId, bytes);
      return {
        $typeName: "ocore.agent.v1.UploadResponse",
        sizeBytes: BigInt(bytes.length),
        sha256: createHash("sha256").update(bytes).digest("hex"),
      };
    },
    async *download(ticket) {
      const bytes = stored.get(ticket.backupId);
      if (!bytes) throw new Error("no such backup");
      for (let offset = 0; offset < bytes.length; offset += 1000) yield bytes.subarray(offset, offset + 1000);
    },
  };
}

const run = Math.random().toString(36).slice(2, 7);
const transfer = memoryTransfer();
let docker: Docker;
let images: InstanceTestImages;
let handlers: CommandHandler[];
const created: Array<{ id: string; name: string }> = [];

const uuid = () => crypto.randomUUID();

async function createInstance(name: string, basePort: number) {
  const id = uuid();
  created.push({ id, name });
  const result = await runHandler(handlers, InstanceCreateSchema, InstanceCreatedSchema, {
    instanceId: id,
    name,
    images,
    basePort,
    workers: 2,
    limits: { cpuMillis: 500, memoryBytes: 256n * 1024n * 1024n },
    environment: { ODOO_EXTRA: "yes" },
    adminPassword: "admin-secret-0123456789",
    databasePassword: "db-secret-0123456789",
    edition: "community",
  });
  return { id, name, basePort, result };
}

/** GETs / on the host port until it answers (containers take a moment to listen). */
async function httpAnswer(port: number, timeoutMs = 20_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
      return await response.text();
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`nothing answers on port ${port}: ${String(last)}`);
}

async function listeningPorts(): Promise<Set<number>> {
  const result = await runHandler(handlers, HostListeningPortsSchema, HostListeningPortsResultSchema, {});
  return new Set(result.ports);
}

/** `count` free blocks of ten from 20000 up, skipping blocks whose ports something holds. */
async function freeBases(count: number, from = 20_000): Promise<number[]> {
  const busy = await listeningPorts();
  const bases: number[] = [];
  for (let base = from; bases.length < count; base += 10) {
    if (![0, 1, 2].some((offset) => busy.has(base + offset))) bases.push(base);
  }
  return bases;
}

const execOut = async (containerName: string, argv: string[]) => {
  const exec = await docker
    .getContainer(containerName)
    .exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  // Strip the 8-byte frame headers of the multiplexed stream.
  const raw = Buffer.concat(chunks);
  const out: Buffer[] = [];
  for (let offset = 0; offset + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(offset + 4);
    out.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(out).toString("utf8");
};

beforeAll(async () => {
  docker = await connectTestDocker();
  images = await ensureInstanceTestImages();
  handlers = createInstanceHandlers({ ...createDockerDeps(TEST_DOCKER_SOCKET), transfer });
}, 180_000);

afterAll(async () => {
  if (!handlers) return;
  await Promise.all(
    created.map((entry) =>
      runHandler(handlers, InstanceRemoveSchema, InstanceRemovedSchema, {
        instanceId: entry.id,
        name: entry.name,
      }).catch(() => undefined),
    ),
  );
}, 180_000);

describe("one instance against the real Docker daemon", () => {
  let instance: Awaited<ReturnType<typeof createInstance>>;
  const name = `t${run}-one`;

  beforeAll(async () => {
    const [base] = await freeBases(1);
    instance = await createInstance(name, base ?? 20_000);
  }, 120_000);

  it("creates the network, volumes and three labelled containers, running, with limits and published ports", async () => {
    const roles = instance.result.status?.containers.map((container) => [container.role, container.state]);
    expect(roles?.sort()).toEqual([
      ["db", "running"],
      ["mail", "running"],
      ["odoo", "running"],
    ]);
    const odoo = await docker.getContainer(`ocore-${name}-odoo`).inspect();
    expect(odoo.Config.Labels[INSTANCE_LABEL]).toBe(instance.id);
    expect(odoo.HostConfig.RestartPolicy?.Name).toBe("unless-stopped");
    expect(odoo.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(odoo.HostConfig.NanoCpus).toBe(500_000_000);
    expect(odoo.Config.Env).toContain("ODOO_EXTRA=yes");
    expect(await docker.getNetwork(`ocore-${name}`).inspect()).toBeTruthy();
    expect(await httpAnswer(instance.basePort)).toContain("odoo stand-in");
    expect(await httpAnswer(instance.basePort + 1)).toContain("odoo stand-in");
    expect(await httpAnswer(instance.basePort + 2)).toContain("mailpit stand-in");
  });

  it("writes odoo.conf with the generated secrets and never echoes them in output", async () => {
    const conf = await execOut(`ocore-${name}-odoo`, ["cat", "/etc/odoo/odoo.conf"]);
    expect(conf).toContain("admin_passwd = admin-secret-0123456789");
    expect(conf).toContain("db_password = db-secret-0123456789");
    expect(conf).toContain("workers = 2");
    const recorded = recordingContext();
    await runHandler(
      handlers,
      InstanceLogsSchema,
      InstanceLogsEndedSchema,
      { instanceId: instance.id },
      recorded.context,
    );
    expect(recorded.output.text("stdout")).toContain("odoo stand-in serving on 8069 and 8072");
    expect(recorded.output.text("stdout")).not.toContain("secret");
  });

  it("stops, starts and restarts, reporting Docker's states", async () => {
    const stopped = await runHandler(handlers, InstanceStopSchema, InstanceCreatedSchema, {
      instanceId: instance.id,
    });
    expect(stopped.status?.containers.map((container) => container.state)).toEqual([
      "exited",
      "exited",
      "exited",
    ]);
    expect(stopped.status?.containers.every((container) => container.exitCode === 0)).toBe(true);
    const started = await runHandler(handlers, InstanceStartSchema, InstanceCreatedSchema, {
      instanceId: instance.id,
    });
    expect(started.status?.containers.every((container) => container.state === "running")).toBe(true);
    const restarted = await runHandler(handlers, InstanceRestartSchema, InstanceCreatedSchema, {
      instanceId: instance.id,
    });
    expect(restarted.status?.containers.every((container) => container.state === "running")).toBe(true);
    expect(await httpAnswer(instance.basePort)).toContain("odoo stand-in");
  }, 60_000);

  it("shows a container that died with its exit code", async () => {
    await docker.getContainer(`ocore-${name}-mail`).update({ RestartPolicy: { Name: "no" } });
    await docker.getContainer(`ocore-${name}-mail`).kill({ signal: "SIGKILL" });
    const inspected = await runHandler(handlers, InstanceInspectSchema, InstanceInspectedSchema, {
      instanceIds: [instance.id],
    });
    const mail = inspected.instances[0]?.containers.find((container) => container.role === "mail");
    expect(mail?.state).toBe("exited");
    expect(mail?.exitCode).toBe(137);
    await runHandler(handlers, InstanceStartSchema, InstanceCreatedSchema, { instanceId: instance.id });
  });

  it("backs up and restores the database and the filestore (checksums match)", async () => {
    await execOut(`ocore-${name}-db`, [
      "sh",
      "-c",
      "echo 'table partner: Ada' > /var/lib/postgresql/data/db.txt",
    ]);
    await execOut(`ocore-${name}-odoo`, [
      "sh",
      "-c",
      "mkdir -p /var/lib/odoo/filestore/odoo/ab && echo attachment-1 > /var/lib/odoo/filestore/odoo/ab/file1",
    ]);
    const backupId = uuid();
    const backup = await runHandler(handlers, InstanceBackupSchema, InstanceBackedUpSchema, {
      instanceId: instance.id,
      backupId,
      uploadTicket: "ticket-1",
      dumpCommand: ["pg_dump", "-Fc", "-U", "odoo", "odoo"],
      dataPath: ODOO_DATA_PATH,
    });
    const stored = transfer.stored.get(backupId);
    expect(stored?.length).toBe(Number(backup.sizeBytes));
    expect(
      createHash("sha256")
        .update(stored ?? Buffer.alloc(0))
        .digest("hex"),
    ).toBe(backup.sha256);
    expect(backup.databaseBytes).toBe(BigInt("table partner: Ada\n".length));
    expect(backup.filestoreBytes).toBeGreaterThan(0n);

    await execOut(`ocore-${name}-db`, [
      "sh",
      "-c",
      "echo 'table partner: CHANGED' > /var/lib/postgresql/data/db.txt",
    ]);
    await execOut(`ocore-${name}-odoo`, ["sh", "-c", "echo CHANGED > /var/lib/odoo/filestore/odoo/ab/file1"]);
    const restored = await runHandler(handlers, InstanceRestoreSchema, InstanceRestoredSchema, {
      instanceId: instance.id,
      backupId,
      downloadTicket: "ticket-2",
      sha256: backup.sha256,
      restoreCommand: ["pg_restore", "--clean", "-U", "odoo", "-d", "odoo"],
      dataPath: ODOO_DATA_PATH,
    });
    expect(restored.status?.containers.every((container) => container.state === "running")).toBe(true);
    expect(await execOut(`ocore-${name}-db`, ["cat", "/var/lib/postgresql/data/db.txt"])).toBe(
      "table partner: Ada\n",
    );
    expect(await execOut(`ocore-${name}-odoo`, ["cat", "/var/lib/odoo/filestore/odoo/ab/file1"])).toBe(
      "attachment-1\n",
    );
  }, 60_000);

  it("refuses a restore whose archive does not match its checksum, before changing anything", async () => {
    const backupId = uuid();
    transfer.stored.set(backupId, Buffer.from("not a backup"));
    await expect(
      runHandler(handlers, InstanceRestoreSchema, InstanceRestoredSchema, {
        instanceId: instance.id,
        backupId,
        downloadTicket: "t",
        sha256: "0".repeat(64),
        restoreCommand: ["pg_restore"],
        dataPath: ODOO_DATA_PATH,
      }),
    ).rejects.toMatchObject({ code: "checksum_mismatch" });
    const odoo = await docker.getContainer(`ocore-${name}-odoo`).inspect();
    expect(odoo.State.Running).toBe(true);
  });

  it("removes everything: containers, volumes and network", async () => {
    const removed = await runHandler(handlers, InstanceRemoveSchema, InstanceRemovedSchema, {
      instanceId: instance.id,
      name,
    });
    expect(removed).toMatchObject({ containers: 3, volumes: 3 });
    const left = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${INSTANCE_LABEL}=${instance.id}`] }),
    });
    expect(left).toEqual([]);
    const volumes = await docker.listVolumes({
      filters: JSON.stringify({ label: [`${INSTANCE_LABEL}=${instance.id}`] }),
    });
    expect(volumes.Volumes ?? []).toEqual([]);
    await expect(docker.getNetwork(`ocore-${name}`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe("ports on the host", () => {
  it("reports a port something listens on, and a create on a taken port fails leaving nothing behind", async () => {
    const [base] = await freeBases(1, 30_000);
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(base, "0.0.0.0", resolve));
    try {
      expect((await listeningPorts()).has(base ?? 0)).toBe(true);
      const name = `t${run}-taken`;
      await expect(createInstance(name, base ?? 0)).rejects.toMatchObject({ code: "port_in_use" });
      const id = created.at(-1)?.id ?? "";
      const left = await docker.listContainers({
        all: true,
        filters: JSON.stringify({ label: [`${INSTANCE_LABEL}=${id}`] }),
      });
      expect(left).toEqual([]);
      await expect(docker.getNetwork(`ocore-${name}`).inspect()).rejects.toMatchObject({ statusCode: 404 });
      await expect(docker.getVolume(`ocore-${name}-db`).inspect()).rejects.toMatchObject({ statusCode: 404 });
    } finally {
      holder.close();
    }
  }, 60_000);

  it("refuses an image that is not on the host and cannot be pulled, creating nothing", async () => {
    const name = `t${run}-noimage`;
    const id = uuid();
    await expect(
      runHandler(handlers, InstanceCreateSchema, InstanceCreatedSchema, {
        instanceId: id,
        name,
        images: { ...images, odoo: "localhost:1/ocore-no-such-image:1" },
        basePort: 40_000,
        adminPassword: "admin-secret-0123456789",
        databasePassword: "db-secret-0123456789",
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/registry_unreachable|not_found|pull_failed/) });
    await expect(docker.getNetwork(`ocore-${name}`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  }, 60_000);
});

describe("twenty instances at once", () => {
  it("creates 20 instances concurrently on distinct blocks, every container running and answering", async () => {
    const bases = await freeBases(20, 21_000);
    const started = performance.now();
    const all = await Promise.all(bases.map((base, i) => createInstance(`t${run}-many-${i}`, base)));
    const seconds = (performance.now() - started) / 1000;
    expect(new Set(all.map((entry) => entry.basePort)).size).toBe(20);
    for (const entry of all) {
      expect(entry.result.status?.containers.every((container) => container.state === "running")).toBe(true);
    }
    const answers = await Promise.all(
      all.flatMap((entry) => [
        httpAnswer(entry.basePort),
        httpAnswer(entry.basePort + 1),
        httpAnswer(entry.basePort + 2),
      ]),
    );
    expect(answers.filter((text) => text.includes("stand-in"))).toHaveLength(60);
    console.log(`20 instances (60 containers) created concurrently in ${seconds.toFixed(1)} s`);
    await Promise.all(
      all.map((entry) =>
        runHandler(handlers, InstanceRemoveSchema, InstanceRemovedSchema, {
          instanceId: entry.id,
          name: entry.name,
        }),
      ),
    );
  }, 300_000);
});
