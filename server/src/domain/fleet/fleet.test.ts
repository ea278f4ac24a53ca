import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../test/support/agent-channel.js";
import { createTestClock } from "../../../test/support/test-clock.js";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { instances } from "../../platform/db/schema/instances.js";
import { provisioningJobs } from "../../platform/db/schema/provisioning.js";
import { servers } from "../../platform/db/schema/servers.js";
import { parseSelector } from "../auth/selector.js";
import { getDeviceSeries } from "../metrics/device-series.js";
import type { MetricSampleInput } from "../metrics/metric-sample.js";
import { createMetricWriter } from "../metrics/metric-writer.js";
import { createServerCountCache } from "../servers/server-counts.js";
import { createFleetFeed, type FleetBatch } from "./fleet-feed.js";
import type { FleetEntry, FleetWindowSpec } from "./fleet-state.js";

const t0 = new Date("2026-03-01T10:00:00Z");
const FIRST: FleetWindowSpec = { kind: "first", limit: 1000 };

function sample(sequence: number, collectedAt: Date, cpu: number): MetricSampleInput {
  return {
    sequence,
    collectedAt,
    cpu: { usagePercent: cpu, perCorePercent: [cpu, cpu / 2], load1: 1, load5: 1, load15: 1, cores: 2 },
    memory: {
      totalBytes: 1000,
      usedBytes: 400,
      availableBytes: 600,
      activeBytes: 300,
      swapTotalBytes: 100,
      swapUsedBytes: 10,
    },
    filesystems: [
      { mount: "/", device: "/dev/vda1", fsType: "ext4", totalBytes: 100, usedBytes: 25, availableBytes: 75 },
    ],
    blockDevices: [
      { device: "vda", readBytesPerSecond: 1, writeBytesPerSecond: 2, readsPerSecond: 1, writesPerSecond: 1 },
    ],
    networkInterfaces: [{ name: "eth0", rxBytesPerSecond: 5, txBytesPerSecond: 7 }],
    tcpConnections: 3,
    docker: undefined,
  };
}

/** Reads the next batch of a subscription, failing instead of hanging. */
async function next(changes: AsyncGenerator<FleetBatch>): Promise<FleetBatch> {
  const result = await Promise.race([
    changes.next(),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no batch within 5 s")), 5_000)),
  ]);
  if (result.done) throw new Error("the subscription ended");
  return result.value;
}

// One database per kind for the file (a fresh PGlite opens slowly on a loaded machine), emptied
// between tests.
describe.each(databaseKinds)("the live fleet on %s", { timeout: 60_000 }, (kind) => {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  }, 120_000);
  afterEach(async () => {
    await database?.db.execute(sql`truncate servers cascade`);
  });
  afterAll(() => database?.close());

  async function addServer(name: string, tags: Record<string, string>) {
    const [row] = await (database as TestDatabase).db
      .insert(servers)
      .values({ name, tags, updatedAt: t0 })
      .returning({ id: servers.id });
    return (row as { id: string }).id;
  }

  it("sends changed servers once, removals, and only what the watcher may see", async () => {
    const { db } = database as TestDatabase;
    const clock = createTestClock(new Date(t0.getTime() + 60_000));
    const prod = await addServer("web-1", { env: "prod" });
    const staging = await addServer("stage-1", { env: "staging" });
    // A long tick: the test drives the ticks itself.
    const feed = createFleetFeed({ db, logger: silentLogger, tickMs: 3_600_000 });
    const prodScope = { all: false, selectors: [parseSelector("env=prod")] } as const;

    const controller = new AbortController();
    const prodChanges = feed.watch(prodScope, FIRST, controller.signal);
    const allChanges = feed.watch({ all: true }, FIRST, controller.signal);
    const prodInitial = await next(prodChanges);
    expect(prodInitial.initial).toBe(true);
    expect(prodInitial.upserts.map((entry) => entry.server.name)).toEqual(["web-1"]);
    expect((await next(allChanges)).upserts.map((entry) => entry.server.name)).toEqual(["stage-1", "web-1"]);
    expect(feed.subscribers()).toBe(2);

    // A sample arrives for web-1: the next tick sends web-1 with it, and nothing else.
    clock.advance(10_000);
    const writer = createMetricWriter(db, { logger: silentLogger, now: clock.now });
    await writer.write(prod, [sample(1, clock.now(), 42)]);
    await writer.close();
    await feed.tick();
    const withSample = await next(prodChanges);
    expect(withSample.upserts.map((entry) => [entry.server.name, entry.latest?.cpuPercent])).toEqual([
      ["web-1", 42],
    ]);
    expect((await next(allChanges)).upserts.map((entry) => entry.server.name)).toEqual(["web-1"]);

    // An unchanged fleet sends nothing (the next batches below hold only the next changes).
    clock.advance(2_000);
    await feed.tick();
    // web-1 leaves the prod watcher's view; stage-1 is deleted.
    clock.advance(2_000);
    await db
      .update(servers)
      .set({ tags: { env: "dev" }, updatedAt: clock.now() })
      .where(eq(servers.id, prod));
    await db.delete(servers).where(eq(servers.id, staging));
    await feed.tick();
    expect(await next(prodChanges)).toEqual({
      initial: false,
      upserts: [],
      removed: [prod],
      window: undefined,
    });
    const allLast = await next(allChanges);
    expect(allLast.removed).toEqual([staging]);
    expect(allLast.upserts.map((entry) => entry.server.tags)).toEqual([{ env: "dev" }]);

    // Leaving stops the watch; the feed forgets the watchers.
    controller.abort();
    expect((await prodChanges.next()).done).toBe(true);
    expect((await allChanges.next()).done).toBe(true);
    expect(feed.subscribers()).toBe(0);
    feed.close();
  });

  it("keeps only the newest state for a slow watcher", async () => {
    const { db } = database as TestDatabase;
    const clock = createTestClock(new Date(t0.getTime() + 60_000));
    const id = await addServer("busy", {});
    const feed = createFleetFeed({ db, logger: silentLogger, tickMs: 3_600_000 });
    const controller = new AbortController();
    const changes = feed.watch({ all: true }, { kind: "ids", ids: [id] }, controller.signal);
    await next(changes);
    const writer = createMetricWriter(db, { logger: silentLogger, now: clock.now });
    for (let i = 1; i <= 5; i++) {
      clock.advance(2_000);
      await writer.write(id, [sample(i, clock.now(), i * 10)]);
      await feed.tick();
    }
    await writer.close();
    const batch = await next(changes);
    expect(batch.upserts.map((entry) => entry.latest?.cpuPercent)).toEqual([50]);
    // Deleted: reported removed to the watcher that holds it.
    await db.delete(servers).where(eq(servers.id, id));
    await feed.tick();
    expect((await next(changes)).removed).toEqual([id]);
    controller.abort();
    feed.close();
  });

  it("sends a server again when its provisioning job moves to another step", async () => {
    const { db } = database as TestDatabase;
    const clock = createTestClock(new Date(t0.getTime() + 60_000));
    const id = await addServer("new-host", {});
    const feed = createFleetFeed({ db, logger: silentLogger, tickMs: 3_600_000 });
    const controller = new AbortController();
    const changes = feed.watch({ all: true }, FIRST, controller.signal);
    expect((await next(changes)).upserts.map((entry) => entry.job)).toEqual([undefined]);
    await db
      .insert(provisioningJobs)
      .values({ serverId: id, kind: "provision", step: "connect", updatedAt: clock.now() });
    await feed.tick();
    expect((await next(changes)).upserts.map((entry) => entry.job?.step)).toEqual(["connect"]);
    clock.advance(2_000);
    await db
      .update(provisioningJobs)
      .set({ step: "check", state: "running", updatedAt: clock.now() })
      .where(eq(provisioningJobs.serverId, id));
    await feed.tick();
    expect((await next(changes)).upserts.map((entry) => [entry.job?.step, entry.job?.state])).toEqual([
      ["check", "running"],
    ]);
    controller.abort();
    feed.close();
  });

  it("sends a server again when one of its instances changes, appears or goes", async () => {
    const { db } = database as TestDatabase;
    const clock = createTestClock(new Date(t0.getTime() + 60_000));
    const id = await addServer("odoo-host", {});
    const feed = createFleetFeed({ db, logger: silentLogger, tickMs: 3_600_000 });
    const controller = new AbortController();
    const changes = feed.watch({ all: true }, { kind: "ids", ids: [id] }, controller.signal);
    expect((await next(changes)).upserts.map((entry) => entry.instances)).toEqual([
      { count: 0, changedAt: undefined },
    ]);

    clock.advance(2_000);
    const created = clock.now();
    const [row] = await db
      .insert(instances)
      .values({
        serverId: id,
        name: "shop",
        odooImage: "odoo:18",
        postgresImage: "postgres:16",
        mailpitImage: "axllent/mailpit",
        basePort: 10000,
        updatedAt: created,
      })
      .returning({ id: instances.id });
    await feed.tick();
    expect((await next(changes)).upserts.map((entry) => entry.instances)).toEqual([
      { count: 1, changedAt: created },
    ]);

    // The agent reports the container died: only the instance row changes.
    clock.advance(2_000);
    const died = clock.now();
    await db
      .update(instances)
      .set({ state: "failed", updatedAt: died })
      .where(eq(instances.id, (row as { id: string }).id));
    await feed.tick();
    expect((await next(changes)).upserts.map((entry) => entry.instances)).toEqual([
      { count: 1, changedAt: died },
    ]);

    // Gone: the next tick says so, the server itself unchanged.
    await db.delete(instances).where(eq(instances.id, (row as { id: string }).id));
    await feed.tick();
    expect((await next(changes)).upserts.map((entry) => entry.instances)).toEqual([
      { count: 0, changedAt: undefined },
    ]);
    controller.abort();
    feed.close();
  });

  it("follows a page: only its servers, its new order and counts, however much of the fleet changes", async () => {
    const { db } = database as TestDatabase;
    const clock = createTestClock(new Date(t0.getTime() + 60_000));
    await db.execute(sql`
      insert into servers (name, status, cpu_percent, updated_at)
      select 'srv-' || lpad(i::text, 3, '0'), case when i % 2 = 0 then 'active' else 'offline' end, i, ${t0.toISOString()}::timestamptz
      from generate_series(1, 40) as i`);
    const feed = createFleetFeed({
      db,
      logger: silentLogger,
      tickMs: 3_600_000,
      counts: createServerCountCache({ nowMs: () => clock.now().getTime(), maxAgeMs: 5_000 }),
    });
    const controller = new AbortController();
    const page = { orderBy: "cpu desc", pageSize: 5 };
    const changes = feed.watch({ all: true }, { kind: "page", page }, controller.signal);
    const initial = await next(changes);
    const names = (ids: readonly string[] | undefined, entries: readonly FleetEntry[]) =>
      (ids ?? []).map((id) => entries.find((entry) => entry.server.id === id)?.server.name ?? id);
    expect(initial.upserts.map((entry) => entry.server.name)).toEqual([
      "srv-040",
      "srv-039",
      "srv-038",
      "srv-037",
      "srv-036",
    ]);
    expect(initial.window).toMatchObject({ totalSize: 40, statusCounts: { active: 20, offline: 20 } });
    expect(names(initial.window?.serverIds, initial.upserts)).toEqual(
      initial.upserts.map((entry) => entry.server.name),
    );
    expect(initial.window?.nextPageToken).not.toBe("");

    // Every server changes; one climbs onto the page and pushes srv-036 off it; one goes offline.
    clock.advance(10_000);
    await db.update(servers).set({ updatedAt: clock.now() });
    await db.update(servers).set({ cpuPercent: 99 }).where(eq(servers.name, "srv-001"));
    await db.update(servers).set({ status: "offline" }).where(eq(servers.name, "srv-040"));
    await feed.tick();
    const batch = await next(changes);
    // Only the page's five servers, never the other 35 that changed.
    expect(batch.upserts.map((entry) => entry.server.name)).toEqual([
      "srv-001",
      "srv-040",
      "srv-039",
      "srv-038",
      "srv-037",
    ]);
    const srv036 = initial.upserts.find((entry) => entry.server.name === "srv-036")?.server.id;
    expect(batch.removed).toEqual([srv036]);
    expect(names(batch.window?.serverIds, batch.upserts)).toEqual([
      "srv-001",
      "srv-040",
      "srv-039",
      "srv-038",
      "srv-037",
    ]);
    expect(batch.window).toMatchObject({ totalSize: 40, statusCounts: { active: 19, offline: 21 } });

    // A server added off the page changes only the counts.
    clock.advance(10_000);
    await addServer("srv-000", {});
    await feed.tick();
    const counted = await next(changes);
    expect(counted.upserts).toEqual([]);
    expect(counted.removed).toEqual([]);
    expect(counted.window).toMatchObject({ totalSize: 41, statusCounts: { connecting: 1 } });
    controller.abort();
    feed.close();
  });

  it("thins per-device history to one sample per slot, newest in each", async () => {
    const { db } = database as TestDatabase;
    const id = await addServer("detail", {});
    const writer = createMetricWriter(db, { logger: silentLogger, now: () => t0 });
    // 60 samples, 10 s apart: 10 minutes.
    await writer.write(
      id,
      Array.from({ length: 60 }, (_, i) => sample(i + 1, new Date(t0.getTime() + i * 10_000), i)),
    );
    await writer.close();
    const points = await getDeviceSeries(db, {
      serverId: id,
      from: t0,
      to: new Date(t0.getTime() + 600_000),
      maxPoints: 10,
    });
    expect(points).toHaveLength(10);
    expect(points.map((point) => point.detail.cores[0])).toEqual([5, 11, 17, 23, 29, 35, 41, 47, 53, 59]);
    expect(points[0]).toMatchObject({ memoryUsed: 400, memoryActive: 300, swapUsed: 10 });
    expect(points[0]?.detail.nics).toEqual([["eth0", 5, 7]]);
    await expect(getDeviceSeries(db, { serverId: id, from: t0, to: t0, maxPoints: 10 })).rejects.toThrow(
      /before endTime/,
    );
    await expect(
      getDeviceSeries(db, { serverId: id, from: t0, to: new Date(t0.getTime() + 1000), maxPoints: 5000 }),
    ).rejects.toThrow(/maxPoints/);
  });
});
