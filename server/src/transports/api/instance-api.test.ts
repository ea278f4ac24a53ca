import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { BackupService } from "@ocore/proto/gen/ocore/api/v1/backup_service_pb.js";
import { InstanceService } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import { eq } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { createSimulatedHost, type SimulatedHost } from "../../../test/support/simulated-instance-host.js";
import type { BackupDeps } from "../../domain/backups/backup-deps.js";
import { createDirectoryBackupStore } from "../../domain/backups/backup-store.js";
import { createBackupDeps } from "../../domain/backups/create-backup-deps.js";
import { createBackgroundTasks } from "../../domain/instances/background-tasks.js";
import { portBlocks } from "../../platform/db/schema/instances.js";
import { servers } from "../../platform/db/schema/servers.js";

/** InstanceService and BackupService through the real routes, auth interceptor and RBAC. */
describe("instance and backup API", () => {
  let h: ApiHarness;
  let host: SimulatedHost;
  let deps: BackupDeps;
  let storeDir: string;
  let prod: string;
  let dev: string;
  let operator: string;
  let viewer: string;

  const codeOf = async (call: Promise<unknown>) =>
    ConnectError.from(await call.catch((error: unknown) => error)).code;

  beforeAll(async () => {
    storeDir = await mkdtemp(path.join(os.tmpdir(), "ocore-api-backups-"));
    h = await createApiHarness("pglite", {
      instances: (db) => {
        const store = createDirectoryBackupStore(storeDir);
        host = createSimulatedHost({ db, store });
        const logger = pino({ level: "silent" });
        deps = createBackupDeps({
          db,
          runner: host,
          store,
          tasks: createBackgroundTasks(logger),
          logger,
          images: { odoo: "odoo:17.0", postgres: "postgres:16", mailpit: "axllent/mailpit:v1.21" },
        });
        return deps;
      },
    });
    const rows = await h.database.db
      .insert(servers)
      .values([
        { name: "prod-1", status: "active", tags: { env: "prod" } },
        { name: "dev-1", status: "active", tags: { env: "dev" } },
      ])
      .returning();
    prod = rows[0]?.id ?? "";
    dev = rows[1]?.id ?? "";
    operator = await h.userToken("prod-operator", [{ role: "operator", selector: "env=prod" }]);
    viewer = await h.userToken("viewer", [{ role: "viewer", selector: "" }]);
  }, 60_000);

  afterAll(async () => {
    await deps?.tasks.idle();
    await h?.close();
    await rm(storeDir, { recursive: true, force: true });
  });

  it("lets an operator create on the servers of its scope only, and a viewer only look", async () => {
    const created = await h
      .client(InstanceService, operator)
      .createInstance({ serverId: prod, name: "shop", workers: 2 });
    expect(created.instance).toMatchObject({
      state: "creating",
      webPort: 10_000,
      longpollingPort: 10_001,
      mailpitPort: 10_002,
    });
    expect(created.adminPassword).toHaveLength(32);
    expect(
      await codeOf(h.client(InstanceService, operator).createInstance({ serverId: dev, name: "shop" })),
    ).toBe(Code.PermissionDenied);
    expect(
      await codeOf(h.client(InstanceService, viewer).createInstance({ serverId: prod, name: "other" })),
    ).toBe(Code.PermissionDenied);
    await deps.tasks.idle();
    const got = await h.client(InstanceService, viewer).getInstance({ id: created.instance?.id ?? "" });
    expect(got.instance?.state).toBe("running");
    const owner = await h.ownerToken();
    await h.client(InstanceService, owner).createInstance({ serverId: dev, name: "devshop" });
    await deps.tasks.idle();
    const visible = await h.client(InstanceService, operator).listInstances({});
    expect(visible.instances.map((instance) => instance.name)).toEqual(["shop"]);
    expect(
      await codeOf(h.client(InstanceService, operator).createInstance({ serverId: prod, name: "shop" })),
    ).toBe(Code.AlreadyExists);
  });

  it("answers unavailable at once for an offline server, and sends and records nothing", async () => {
    const lastSeenAt = new Date(Date.now() - 10 * 60_000);
    const [gone] = await h.database.db
      .insert(servers)
      .values({ name: "gone-1", status: "offline", lastSeenAt, tags: { env: "prod" } })
      .returning();
    const submitted = host.submitted.length;
    const started = performance.now();
    const error = ConnectError.from(
      await h
        .client(InstanceService, operator)
        .createInstance({ serverId: gone?.id ?? "", name: "late" })
        .catch((caught: unknown) => caught),
    );
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).toBe(
      `server gone-1 is offline (last seen ${lastSeenAt.toISOString()}); the command was not sent: check the host, its network and the ocore-agent service, then retry`,
    );
    expect(host.submitted.length).toBe(submitted);
    const owner = await h.ownerToken();
    const listed = await h.client(InstanceService, owner).listInstances({ serverId: gone?.id ?? "" });
    expect(listed.instances).toEqual([]);
    const blocks = await h.database.db
      .select()
      .from(portBlocks)
      .where(eq(portBlocks.serverId, gone?.id ?? ""));
    expect(blocks).toEqual([]);
  });

  it("backs up, downloads (the checksum matches), restores into a new instance, and deletes", async () => {
    const [shop] = (await h.client(InstanceService, operator).listInstances({ serverId: prod })).instances;
    const simulated = host.instances.get(shop?.id ?? "");
    if (!shop || !simulated) throw new Error("shop was not created");
    simulated.database = "invoices: 42";
    const { backup } = await h.client(BackupService, operator).createBackup({ instanceId: shop.id });
    expect(backup).toMatchObject({ state: "completed", kind: "manual" });
    const parts: Uint8Array[] = [];
    for await (const message of h.client(BackupService, viewer).downloadBackup({ id: backup?.id ?? "" })) {
      parts.push(message.chunk);
    }
    expect(createHash("sha256").update(Buffer.concat(parts)).digest("hex")).toBe(backup?.sha256);

    const restored = await h
      .client(BackupService, operator)
      .restoreBackup({ id: backup?.id ?? "", newInstanceName: "shop-copy" });
    expect(restored.instance).toMatchObject({ name: "shop-copy", state: "running" });
    expect(host.instances.get(restored.instance?.id ?? "")?.database).toBe("invoices: 42");

    const retention = await h.client(BackupService, operator).setRetention({
      instanceId: shop.id,
      retention: { daily: 3, weekly: 2, monthly: 1 },
    });
    expect(retention.retention).toMatchObject({ daily: 3, weekly: 2, monthly: 1 });
    expect(await codeOf(h.client(BackupService, viewer).deleteBackup({ id: backup?.id ?? "" }))).toBe(
      Code.PermissionDenied,
    );

    const removing = await h.client(InstanceService, operator).deleteInstance({ id: shop.id });
    expect(removing.instance?.state).toBe("removing");
    await deps.tasks.idle();
    expect(await codeOf(h.client(InstanceService, operator).getInstance({ id: shop.id }))).toBe(
      Code.NotFound,
    );
    await h.client(BackupService, operator).deleteBackup({ id: backup?.id ?? "" });
    const drain = async () => {
      for await (const _ of h.client(BackupService, operator).downloadBackup({ id: backup?.id ?? "" }));
    };
    expect(await codeOf(drain())).toBe(Code.NotFound);
  });
});
