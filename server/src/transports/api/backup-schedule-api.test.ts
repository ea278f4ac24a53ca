import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { BackupService } from "@ocore/proto/gen/ocore/api/v1/backup_service_pb.js";
import { InstanceService } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import { and, eq } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "../../../test/support/api-harness.js";
import { createSimulatedHost } from "../../../test/support/simulated-instance-host.js";
import type { BackupDeps } from "../../domain/backups/backup-deps.js";
import { createDirectoryBackupStore } from "../../domain/backups/backup-store.js";
import { createBackupDeps } from "../../domain/backups/create-backup-deps.js";
import { createBackgroundTasks } from "../../domain/instances/background-tasks.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { servers } from "../../platform/db/schema/servers.js";

/** GetBackupSchedule and SetBackupSchedule through the real routes, auth interceptor and RBAC. */
describe("backup schedule API", () => {
  let h: ApiHarness;
  let deps: BackupDeps;
  let storeDir: string;
  let instanceId: string;
  let operator: string;
  let otherOperator: string;
  let viewer: string;

  const codeOf = async (call: Promise<unknown>) =>
    ConnectError.from(await call.catch((error: unknown) => error)).code;

  beforeAll(async () => {
    storeDir = await mkdtemp(path.join(os.tmpdir(), "ocore-api-schedule-"));
    h = await createApiHarness("pglite", {
      instances: (db) => {
        const store = createDirectoryBackupStore(storeDir);
        const logger = pino({ level: "silent" });
        deps = createBackupDeps({
          db,
          runner: createSimulatedHost({ db, store }),
          store,
          tasks: createBackgroundTasks(logger),
          logger,
          images: { odoo: "odoo:17.0", postgres: "postgres:16", mailpit: "axllent/mailpit:v1.21" },
        });
        return deps;
      },
    });
    const [prod] = await h.database.db
      .insert(servers)
      .values({ name: "prod-1", status: "active", tags: { env: "prod" } })
      .returning();
    operator = await h.userToken("prod-operator", [{ role: "operator", selector: "env=prod" }]);
    otherOperator = await h.userToken("dev-operator", [{ role: "operator", selector: "env=dev" }]);
    viewer = await h.userToken("viewer", [{ role: "viewer", selector: "" }]);
    const created = await h
      .client(InstanceService, operator)
      .createInstance({ serverId: prod?.id ?? "", name: "shop" });
    instanceId = created.instance?.id ?? "";
    await deps.tasks.idle();
  }, 60_000);

  afterAll(async () => {
    await deps?.tasks.idle();
    await h?.close();
    await rm(storeDir, { recursive: true, force: true });
  });

  it("sets a daily schedule in scope, audited; a viewer reads it but cannot change it", async () => {
    const empty = await h.client(BackupService, viewer).getBackupSchedule({ instanceId });
    expect(empty.schedule).toMatchObject({ enabled: false, frequency: { case: undefined } });

    const set = await h.client(BackupService, operator).setBackupSchedule({
      instanceId,
      schedule: { enabled: true, frequency: { case: "dailyAt", value: { hour: 2, minute: 30 } } },
    });
    expect(set.schedule).toMatchObject({
      enabled: true,
      frequency: { case: "dailyAt", value: { hour: 2, minute: 30 } },
    });
    if (!set.schedule?.nextRunAt) throw new Error("no next run");
    const next = timestampDate(set.schedule.nextRunAt);
    expect(next.toISOString()).toMatch(/T02:30:00\.000Z$/);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);

    const read = await h.client(BackupService, viewer).getBackupSchedule({ instanceId });
    expect(read.schedule?.frequency).toEqual(set.schedule?.frequency);
    const entries = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, instanceId), eq(auditLog.action, "backup.schedule.set")));
    expect(entries).toMatchObject([{ actorName: "prod-operator", result: "success" }]);

    const change = {
      instanceId,
      schedule: { enabled: true, frequency: { case: "everyHours" as const, value: 6 } },
    };
    expect(await codeOf(h.client(BackupService, viewer).setBackupSchedule(change))).toBe(
      Code.PermissionDenied,
    );
    expect(await codeOf(h.client(BackupService, otherOperator).setBackupSchedule(change))).toBe(
      Code.PermissionDenied,
    );
  });

  it("refuses a time of day or an interval out of range, naming the field", async () => {
    const refused = async (
      frequency:
        | { case: "dailyAt"; value: { hour: number; minute: number } }
        | { case: "everyHours"; value: number },
    ) => {
      const error = ConnectError.from(
        await h
          .client(BackupService, operator)
          .setBackupSchedule({ instanceId, schedule: { enabled: true, frequency } })
          .catch((caught: unknown) => caught),
      );
      expect(error.code).toBe(Code.InvalidArgument);
      return error.rawMessage;
    };
    expect(await refused({ case: "dailyAt", value: { hour: 24, minute: 0 } })).toMatch(/schedule\.dailyAt/);
    expect(await refused({ case: "everyHours", value: 169 })).toMatch(
      /schedule\.everyHours: must be 1 to 168/,
    );
  });
});
