import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatedHost, type SimulatedHost } from "../../../test/support/simulated-instance-host.js";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { backups, instances, portBlocks } from "../../platform/db/schema/instances.js";
import { servers } from "../../platform/db/schema/servers.js";
import { systemContext } from "../audit/audit-context.js";
import type { BackupDeps } from "../backups/backup-deps.js";
import { listBackups } from "../backups/backup-queries.js";
import { createDirectoryBackupStore } from "../backups/backup-store.js";
import { receiveUpload } from "../backups/backup-transfer.js";
import { createBackup } from "../backups/create-backup.js";
import { createBackupDeps } from "../backups/create-backup-deps.js";
import { restoreBackup } from "../backups/restore-backup.js";
import { setRetention } from "../backups/set-retention.js";
import { createBackgroundTasks } from "./background-tasks.js";
import { type CreateInstanceInput, createInstance } from "./create-instance.js";
import { deleteInstance, resumeInstanceTasks } from "./delete-instance.js";
import { changeInstanceState } from "./instance-actions.js";
import { defaultInstanceTiming } from "./instance-deps.js";
import { getInstance, listInstances } from "./instance-queries.js";

const context = {
  actor: { type: "user" as const, id: "u1", name: "alice" },
  sourceIp: "127.0.0.1",
  userAgent: "test",
};

describe.each(databaseKinds)("instances and backups on %s", (kind) => {
  let database: TestDatabase;
  let deps: BackupDeps;
  let host: SimulatedHost;
  let serverId: string;
  let storeDir: string;

  const input = (name: string, extra: Partial<CreateInstanceInput> = {}): CreateInstanceInput => ({
    serverId,
    name,
    odooImage: "",
    postgresImage: "",
    mailpitImage: "",
    edition: "",
    workers: 2,
    cpuMillis: 1000,
    memoryBytes: 512n * 1024n * 1024n,
    environment: { TZ: "UTC" },
    ...extra,
  });
  const counts = async () => ({
    instances: (await database.db.select().from(instances)).length,
    blocks: (await database.db.select().from(portBlocks)).length,
  });
  const clear = async () => {
    await database.db.delete(backups);
    await database.db.delete(instances);
    host.instances.clear();
    host.listening.clear();
  };

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    storeDir = await mkdtemp(path.join(os.tmpdir(), "ocore-backups-"));
    const store = createDirectoryBackupStore(storeDir);
    host = createSimulatedHost({ db: database.db, store });
    const logger = pino({ level: "silent" });
    deps = createBackupDeps({
      db: database.db,
      runner: host,
      store,
      tasks: createBackgroundTasks(logger),
      logger,
      images: { odoo: "odoo:17.0", postgres: "postgres:16", mailpit: "axllent/mailpit:v1.21" },
      timing: { ...defaultInstanceTiming, portsMs: 200 },
    });
    const [server] = await database.db
      .insert(servers)
      .values({ name: `srv-${kind}`, status: "active" })
      .returning();
    serverId = server?.id ?? "";
  });
  afterAll(async () => {
    await deps?.tasks.idle();
    await database?.close();
    await rm(storeDir, { recursive: true, force: true });
  });

  it("creates an instance: creating at once, running once the agent made it, audited, secrets not stored", async () => {
    const created = await createInstance(deps, context, input("acme"));
    expect(created.instance).toMatchObject({ state: "creating", basePort: 10_000, odooImage: "odoo:17.0" });
    expect(created.adminPassword).toHaveLength(32);
    await deps.tasks.idle();
    const row = await getInstance(deps, created.instance.id);
    expect(row.state).toBe("running");
    const entries = await database.db.select().from(auditLog).where(eq(auditLog.targetId, row.id));
    expect(entries.map((entry) => entry.action).sort()).toEqual([
      "instance.create",
      "instance.create.finished",
    ]);
    expect(entries.map((entry) => entry.afterJson).join()).not.toContain(created.adminPassword);
    await clear();
  });

  it("gives 20 concurrent creations 20 distinct blocks 10000…10190, all running", async () => {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => createInstance(deps, context, input(`many-${i}`))),
    );
    await deps.tasks.idle();
    expect(created.map((entry) => entry.instance.basePort).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => 10_000 + i * 10),
    );
    const rows = await listInstances(deps, { all: true }, { serverId });
    expect(rows.filter((row) => row.state === "running")).toHaveLength(20);
    expect(host.instances.size).toBe(20);
    await clear();
  }, 60_000);

  it("skips a block whose port something else on the host listens on", async () => {
    host.listening.add(10_002);
    const created = await createInstance(deps, context, input("skip"));
    expect(created.instance.basePort).toBe(10_010);
    await deps.tasks.idle();
    await clear();
  });

  it("refuses bad input with a clear error and leaves nothing half-created", async () => {
    const before = await counts();
    await expect(
      createInstance(deps, context, input("valid-name", { serverId: crypto.randomUUID() })),
    ).rejects.toMatchObject({
      code: "not_found",
      message: "the server does not exist",
    });
    await expect(
      createInstance(deps, context, input("bad-image", { odooImage: "Odoo::17" })),
    ).rejects.toMatchObject({
      code: "invalid_argument",
      field: "odoo_image",
    });
    await expect(createInstance(deps, context, input("Bad Name"))).rejects.toMatchObject({
      code: "invalid_argument",
    });
    await createInstance(deps, context, input("dup"));
    await expect(createInstance(deps, context, input("dup"))).rejects.toMatchObject({
      code: "already_exists",
      message: expect.stringContaining('an instance named "dup" exists'),
    });
    host.offline = true;
    try {
      await expect(createInstance(deps, context, input("offline"))).rejects.toMatchObject({
        code: "unavailable",
        message: expect.stringContaining("nothing was created"),
      });
    } finally {
      host.offline = false;
    }
    await deps.tasks.idle();
    expect(await counts()).toEqual({ instances: before.instances + 1, blocks: before.blocks + 1 });
    await clear();
  });

  it("follows Docker: a container that died shows the instance failed with its exit code", async () => {
    const { instance } = await createInstance(deps, context, input("dies"));
    await deps.tasks.idle();
    const simulated = host.instances.get(instance.id);
    if (simulated) simulated.containers.odoo = { state: "exited", exitCode: 3 };
    const row = await getInstance(deps, instance.id);
    expect(row).toMatchObject({
      state: "failed",
      stateMessage: expect.stringContaining("Odoo exited with code 3"),
    });
    const started = await changeInstanceState(deps, context, instance.id, "start");
    expect(started.state).toBe("running");
    const stopped = await changeInstanceState(deps, context, instance.id, "stop");
    expect(stopped).toMatchObject({ state: "stopped", desiredState: "stopped" });
    expect((await getInstance(deps, instance.id)).state).toBe("stopped");

    // The agent went away: an action answers at once and sends nothing.
    await database.db.update(servers).set({ status: "offline" }).where(eq(servers.id, serverId));
    try {
      const submitted = host.submitted.length;
      await expect(changeInstanceState(deps, context, instance.id, "start")).rejects.toMatchObject({
        code: "unavailable",
        message: expect.stringMatching(/^server srv-\w+ is offline \(never seen\); the command was not sent/),
      });
      expect(host.submitted.length).toBe(submitted);
    } finally {
      await database.db.update(servers).set({ status: "active" }).where(eq(servers.id, serverId));
    }
    await clear();
  });

  it("deletes in the background after an automatic backup, freeing the block for reuse", async () => {
    const { instance } = await createInstance(deps, context, input("gone"));
    await deps.tasks.idle();
    const removing = await deleteInstance(deps, context, instance.id, { skipBackup: false });
    expect(removing.state).toBe("removing");
    await deps.tasks.idle();
    expect(await counts()).toEqual({ instances: 0, blocks: 0 });
    const [kept] = await database.db.select().from(backups).where(eq(backups.instanceName, "gone"));
    expect(kept).toMatchObject({ kind: "pre_delete", state: "completed", instanceId: null });
    const next = await createInstance(deps, context, input("reuse"));
    expect(next.instance.basePort).toBe(10_000);
    await deps.tasks.idle();
    await clear();
  });

  it("backs up and restores over the instance and into a new one (checksums match)", async () => {
    const { instance } = await createInstance(deps, context, input("shop"));
    await deps.tasks.idle();
    const simulated = host.instances.get(instance.id);
    if (!simulated) throw new Error("not created");
    simulated.database = "partners: Ada";
    simulated.filestore = "ab/file1";
    const backup = await createBackup(deps, context, { instanceId: instance.id, kind: "manual" });
    expect(backup).toMatchObject({ state: "completed", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    simulated.database = "partners: CHANGED";
    const restored = await restoreBackup(deps, context, { backupId: backup.id, newInstanceName: "" });
    expect(restored.instance.state).toBe("running");
    expect(simulated.database).toBe("partners: Ada");
    const kinds = (await listBackups(database.db, instance.id)).map((row) => row.kind);
    expect(kinds.sort()).toEqual(["manual", "pre_restore"]);

    const copy = await restoreBackup(deps, context, { backupId: backup.id, newInstanceName: "shop-copy" });
    expect(copy.instance).toMatchObject({ name: "shop-copy", state: "running", basePort: 10_010 });
    expect(copy.adminPassword).toHaveLength(32);
    expect(host.instances.get(copy.instance.id)?.filestore).toBe("ab/file1");
    await deps.tasks.idle();
    await clear();
  });

  it("keeps upload tickets one-time and bound to their server", async () => {
    const { instance } = await createInstance(deps, context, input("tickets"));
    await deps.tasks.idle();
    const backup = await createBackup(deps, context, { instanceId: instance.id, kind: "manual" });
    const bytes = (async function* () {
      yield new Uint8Array([1]);
    })();
    await expect(
      receiveUpload(database.db, deps.store, { serverId, backupId: backup.id, ticket: "guessed" }, bytes),
    ).rejects.toMatchObject({ code: "permission_denied" });
    await clear();
  });

  it("applies retention: setting daily 1 keeps only the newest backup of the day", async () => {
    const { instance } = await createInstance(deps, context, input("keep"));
    await deps.tasks.idle();
    await setRetention(deps, context, instance.id, { daily: 0, weekly: 0, monthly: 0 });
    for (let i = 0; i < 3; i += 1)
      await createBackup(deps, context, { instanceId: instance.id, kind: "automatic" });
    expect(await listBackups(database.db, instance.id)).toHaveLength(3);
    const applied = await setRetention(deps, context, instance.id, { daily: 1, weekly: 0, monthly: 0 });
    expect(applied.deleted).toBe(2);
    expect(await listBackups(database.db, instance.id)).toHaveLength(1);
    await clear();
  });

  it("after a restart, fails instances left creating and finishes deletions left removing", async () => {
    const [creating] = await database.db
      .insert(instances)
      .values({
        serverId,
        name: "stuck",
        odooImage: "o",
        postgresImage: "p",
        mailpitImage: "m",
        basePort: 10_000,
      })
      .returning();
    const { instance } = await createInstance(deps, context, input("half-deleted"));
    await deps.tasks.idle();
    await database.db.update(instances).set({ state: "removing" }).where(eq(instances.id, instance.id));
    const resumed = await resumeInstanceTasks({ ...deps, now: () => new Date() });
    await deps.tasks.idle();
    expect(resumed).toEqual({ failed: 1, resumed: 1 });
    const [stuck] = await database.db
      .select()
      .from(instances)
      .where(eq(instances.id, creating?.id ?? ""));
    expect(stuck).toMatchObject({ state: "failed", stateMessage: expect.stringContaining("restarted") });
    expect(host.instances.has(instance.id)).toBe(false);
    await clear();
    void systemContext;
  });
});
