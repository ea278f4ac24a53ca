import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_CREDENTIALS, type S3Emulator, startS3Emulator } from "../../../test/support/s3-emulator.js";
import { createSimulatedHost, type SimulatedHost } from "../../../test/support/simulated-instance-host.js";
import { createTestDatabase, type TestDatabase } from "../../../test/support/test-databases.js";
import { servers } from "../../platform/db/schema/servers.js";
import { createBackgroundTasks } from "../instances/background-tasks.js";
import { createInstance } from "../instances/create-instance.js";
import type { BackupDeps } from "./backup-deps.js";
import { createBackup } from "./create-backup.js";
import { createBackupDeps } from "./create-backup-deps.js";
import { deleteBackup } from "./delete-backup.js";
import { restoreBackup } from "./restore-backup.js";
import { createS3BackupStore, type S3BackupStore } from "./s3-backup-store.js";

const context = {
  actor: { type: "user" as const, id: "u1", name: "alice" },
  sourceIp: "127.0.0.1",
  userAgent: "test",
};

/** A backup and its restore through the S3 store (a real emulator), the agent simulated. */
describe("backup → restore through the S3 backup store", () => {
  let database: TestDatabase;
  let emulator: S3Emulator;
  let store: S3BackupStore;
  let host: SimulatedHost;
  let deps: BackupDeps;
  let serverId: string;

  beforeAll(async () => {
    database = await createTestDatabase("pglite");
    emulator = await startS3Emulator("ocore-round-trip");
    store = createS3BackupStore({
      endpoint: emulator.endpoint,
      region: "us-east-1",
      bucket: emulator.bucket,
      prefix: "",
      forcePathStyle: true,
      credentials: EMULATOR_CREDENTIALS,
    });
    host = createSimulatedHost({ db: database.db, store });
    const logger = pino({ level: "silent" });
    deps = createBackupDeps({
      db: database.db,
      runner: host,
      store,
      tasks: createBackgroundTasks(logger),
      logger,
      images: { odoo: "odoo:17.0", postgres: "postgres:16", mailpit: "axllent/mailpit:v1.21" },
    });
    const [server] = await database.db
      .insert(servers)
      .values({ name: "s3-srv", status: "active" })
      .returning();
    serverId = server?.id ?? "";
  });
  afterAll(async () => {
    await deps?.tasks.idle();
    store?.close();
    await emulator?.close();
    await database?.close();
  });

  it("brings the data back (checksums match) and deletes the archive from the bucket", async () => {
    const { instance } = await createInstance(deps, context, {
      serverId,
      name: "shop",
      odooImage: "",
      postgresImage: "",
      mailpitImage: "",
      edition: "",
      workers: 0,
      cpuMillis: 0,
      memoryBytes: 0n,
      environment: {},
    });
    await deps.tasks.idle();
    const simulated = host.instances.get(instance.id);
    if (!simulated) throw new Error("not created");
    simulated.database = "partners: Ada, Grace";
    simulated.filestore = "ab/file1";
    const backup = await createBackup(deps, context, { instanceId: instance.id, kind: "manual" });
    expect(backup).toMatchObject({ state: "completed", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    simulated.database = "partners: CHANGED";
    const restored = await restoreBackup(deps, context, { backupId: backup.id, newInstanceName: "" });
    expect(restored.instance.state).toBe("running");
    expect(simulated.database).toBe("partners: Ada, Grace");

    await deleteBackup(deps, context, backup.id);
    await expect(
      (async () => {
        for await (const _ of store.get(backup.storageKey));
      })(),
    ).rejects.toMatchObject({ code: "ENOENT" });
  });
});
