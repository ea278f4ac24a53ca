import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatedHost, type SimulatedHost } from "../../../test/support/simulated-instance-host.js";
import { createTestClock, type TestClock } from "../../../test/support/test-clock.js";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { backupSchedules } from "../../platform/db/schema/backup-schedules.js";
import { backups, instances } from "../../platform/db/schema/instances.js";
import { servers } from "../../platform/db/schema/servers.js";
import { createBackgroundTasks } from "../instances/background-tasks.js";
import { createInstance } from "../instances/create-instance.js";
import { changeInstanceState } from "../instances/instance-actions.js";
import type { BackupDeps } from "./backup-deps.js";
import { listBackups } from "./backup-queries.js";
import { getBackupSchedule, setBackupSchedule } from "./backup-schedule.js";
import { createBackupScheduler } from "./backup-scheduler.js";
import { createDirectoryBackupStore } from "./backup-store.js";
import { createBackupDeps } from "./create-backup-deps.js";
import { claimDueSchedule } from "./schedule-claims.js";
import { setRetention } from "./set-retention.js";

const context = {
  actor: { type: "user" as const, id: "u1", name: "alice" },
  sourceIp: "127.0.0.1",
  userAgent: "test",
};
const HOUR = 3_600_000;
const daily = (hour: number, minute = 0) => ({ kind: "daily" as const, minuteOfDay: hour * 60 + minute });

describe.each(databaseKinds)("scheduled backups on %s", (kind) => {
  let database: TestDatabase;
  let deps: BackupDeps;
  let host: SimulatedHost;
  let clock: TestClock;
  let serverId: string;
  let storeDir: string;
  let counter = 0;

  const newInstance = async () => {
    counter += 1;
    const { instance } = await createInstance(deps, context, {
      serverId,
      name: `sched-${counter}`,
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
    return instance;
  };
  const scheduleRow = async (instanceId: string) => {
    const [row] = await database.db
      .select()
      .from(backupSchedules)
      .where(eq(backupSchedules.instanceId, instanceId));
    return row;
  };
  const clear = async () => {
    await database.db.delete(backups);
    await database.db.delete(instances);
    host.instances.clear();
    host.listening.clear();
    host.offline = false;
  };

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    storeDir = await mkdtemp(path.join(os.tmpdir(), "ocore-scheduled-"));
    const store = createDirectoryBackupStore(storeDir);
    host = createSimulatedHost({ db: database.db, store });
    clock = createTestClock(new Date("2026-12-01T01:00:00Z"));
    const logger = pino({ level: "silent" });
    deps = createBackupDeps({
      db: database.db,
      runner: host,
      store,
      tasks: createBackgroundTasks(logger),
      logger,
      images: { odoo: "odoo:17.0", postgres: "postgres:16", mailpit: "axllent/mailpit:v1.21" },
      now: clock.now,
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

  it("sets, reads and removes a schedule, refusing bad ones, each change audited", async () => {
    const instance = await newInstance();
    expect(await getBackupSchedule(database.db, instance.id)).toMatchObject({
      enabled: false,
      frequency: undefined,
    });
    await expect(
      setBackupSchedule(deps, context, instance.id, { enabled: true, frequency: undefined }),
    ).rejects.toMatchObject({ code: "invalid_argument", field: "schedule.frequency" });
    await expect(
      setBackupSchedule(deps, context, instance.id, {
        enabled: true,
        frequency: { kind: "hourly", everyHours: 0 },
      }),
    ).rejects.toMatchObject({ code: "invalid_argument", field: "schedule.everyHours" });
    await expect(
      setBackupSchedule(deps, context, crypto.randomUUID(), { enabled: true, frequency: daily(2) }),
    ).rejects.toMatchObject({ code: "not_found" });

    const set = await setBackupSchedule(deps, context, instance.id, {
      enabled: true,
      frequency: daily(2, 30),
    });
    expect(set).toMatchObject({ enabled: true, frequency: daily(2, 30) });
    const today = clock.now().toISOString().slice(0, 10);
    const expected = new Date(`${today}T02:30:00Z`);
    if (expected <= clock.now()) expected.setUTCDate(expected.getUTCDate() + 1);
    expect(set.nextRunAt).toEqual(expected);
    const off = await setBackupSchedule(deps, context, instance.id, {
      enabled: false,
      frequency: { kind: "hourly", everyHours: 6 },
    });
    expect(off).toMatchObject({
      enabled: false,
      frequency: { kind: "hourly", everyHours: 6 },
      nextRunAt: undefined,
    });
    await setBackupSchedule(deps, context, instance.id, { enabled: false, frequency: undefined });
    expect(await scheduleRow(instance.id)).toBeUndefined();

    const entries = await database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, instance.id), eq(auditLog.action, "backup.schedule.set")));
    expect(entries).toHaveLength(3);
    expect(JSON.parse(entries[0]?.afterJson ?? "{}")).toMatchObject({ enabled: true });
    await clear();
  });

  it("backs up once per daily slot as the system, applies retention, and moves to the next day", async () => {
    const instance = await newInstance();
    await setRetention(deps, context, instance.id, { daily: 2, weekly: 0, monthly: 0 });
    await setBackupSchedule(deps, context, instance.id, { enabled: true, frequency: daily(2) });
    const scheduler = createBackupScheduler(deps);
    const slot = (await scheduleRow(instance.id))?.nextRunAt ?? new Date(0);
    clock.advance(slot.getTime() - clock.now().getTime() - 60_000);
    expect(await scheduler.runDue()).toBe(0);
    clock.advance(2 * 60_000);
    expect(await scheduler.runDue()).toBe(1);
    expect(await scheduler.runDue()).toBe(0); // the same slot never runs twice

    const [taken] = await listBackups(database.db, instance.id);
    expect(taken).toMatchObject({ kind: "automatic", state: "completed" });
    expect(await getBackupSchedule(database.db, instance.id)).toMatchObject({
      lastResult: "succeeded",
      lastBackupId: taken?.id,
      nextRunAt: new Date(slot.getTime() + 24 * HOUR),
    });
    const [created] = await database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, taken?.id ?? ""), eq(auditLog.action, "backup.create")));
    expect(created).toMatchObject({ actorType: "system" });

    for (let day = 0; day < 2; day += 1) {
      clock.advance(24 * HOUR);
      expect(await scheduler.runDue()).toBe(1);
    }
    // Three daily backups, retention keeps the newest of the last two days.
    expect((await listBackups(database.db, instance.id)).map((row) => row.kind)).toEqual([
      "automatic",
      "automatic",
    ]);
    await scheduler.stop();
    await clear();
  });

  it("lets several replicas claim at once without running any slot twice", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const instance = await newInstance();
      ids.push(instance.id);
      await setBackupSchedule(deps, context, instance.id, {
        enabled: true,
        frequency: { kind: "hourly", everyHours: 1 },
      });
    }
    clock.advance(HOUR);
    const replicas = [createBackupScheduler(deps), createBackupScheduler(deps), createBackupScheduler(deps)];
    const runs = await Promise.all(replicas.map((replica) => replica.runDue()));
    expect(runs.reduce((sum, n) => sum + n, 0)).toBe(4);
    for (const id of ids) expect(await listBackups(database.db, id)).toHaveLength(1);
    await clear();
  });

  it("takes over a run whose process died once its lease expired, not before", async () => {
    const instance = await newInstance();
    await setBackupSchedule(deps, context, instance.id, {
      enabled: true,
      frequency: { kind: "hourly", everyHours: 2 },
    });
    clock.advance(2 * HOUR);
    const leaseMs = 60_000;
    const dead = await claimDueSchedule(database.db, { owner: "dead-process", leaseMs, now: clock.now() });
    expect(dead?.instanceId).toBe(instance.id);
    const scheduler = createBackupScheduler(deps, { leaseMs });
    expect(await scheduler.runDue()).toBe(0);
    clock.advance(leaseMs + 1);
    expect(await scheduler.runDue()).toBe(1);
    expect(await scheduleRow(instance.id)).toMatchObject({ lastResult: "succeeded", leaseOwner: null });
    await clear();
  });

  it("records and audits a failed run, skips a stopped instance, and moves on either way", async () => {
    const instance = await newInstance();
    await setBackupSchedule(deps, context, instance.id, {
      enabled: true,
      frequency: { kind: "hourly", everyHours: 1 },
    });
    const scheduler = createBackupScheduler(deps);
    host.offline = true;
    clock.advance(HOUR);
    expect(await scheduler.runDue()).toBe(1);
    const failed = await getBackupSchedule(database.db, instance.id);
    expect(failed).toMatchObject({ lastResult: "failed", lastMessage: expect.stringContaining("offline") });
    expect(failed.nextRunAt?.getTime()).toBeGreaterThan(clock.now().getTime());
    const [audited] = await database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, instance.id), eq(auditLog.action, "backup.schedule.failed")));
    expect(audited).toMatchObject({ result: "failure", actorType: "system" });

    host.offline = false;
    await changeInstanceState(deps, context, instance.id, "stop");
    clock.advance(HOUR);
    expect(await scheduler.runDue()).toBe(1);
    expect(await getBackupSchedule(database.db, instance.id)).toMatchObject({
      lastResult: "skipped",
      lastMessage: "the instance is stopped",
    });
    await clear();
  });
});
