import { eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../test/support/agent-channel.js";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { servers } from "../../platform/db/schema/servers.js";
import { parseSelector } from "../auth/selector.js";
import { getLatestSnapshotPage, getLatestSnapshots } from "./get-latest-snapshots.js";
import { chooseResolution, getSeries } from "./get-series.js";
import type { MetricSampleInput } from "./metric-sample.js";
import { createMetricWriter, MAX_BIND_PARAMETERS } from "./metric-writer.js";
import { runRollups } from "./rollups.js";

const retention = { rawDays: 3, minuteDays: 30, hourDays: 395 };
const t0 = new Date("2026-03-01T10:00:00Z");

function sample(sequence: number, collectedAt: Date, cpu = 10): MetricSampleInput {
  return {
    sequence,
    collectedAt,
    cpu: { usagePercent: cpu, perCorePercent: [cpu, cpu], load1: 1, load5: 1, load15: 1, cores: 2 },
    memory: {
      totalBytes: 1000,
      usedBytes: 400,
      availableBytes: 600,
      activeBytes: 300,
      swapTotalBytes: 0,
      swapUsedBytes: 0,
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

describe.each(databaseKinds)("metrics on %s", (kind) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  async function addServer(name: string) {
    const [row] = await (database as TestDatabase).db
      .insert(servers)
      .values({ name })
      .returning({ id: servers.id });
    return (row as { id: string }).id;
  }
  const count = async (table: string) =>
    rowsOf<{ n: number }>(await database?.db.execute(sql.raw(`select count(*)::int as n from ${table}`)))[0]
      ?.n;

  it("writes big batches in statements under the bind-parameter limit, and stores replays once", async () => {
    database = await createTestDatabase(kind);
    const writer = createMetricWriter(database.db, { logger: silentLogger, rowsPerStatement: 100_000 });
    expect(writer.rowsPerStatement * 26).toBeLessThanOrEqual(MAX_BIND_PARAMETERS);
    const id = await addServer("big");
    const samples = Array.from({ length: 5000 }, (_, i) =>
      sample(i + 1, new Date(t0.getTime() + i * 10_000)),
    );
    await writer.write(id, samples);
    await Promise.all([writer.write(id, samples.slice(0, 10)), writer.write(id, samples.slice(0, 10))]);
    expect(await count("metric_samples")).toBe(5000);
    await writer.close();
  });

  it("stores text as sent, and fails only the batch of a removed server in a group commit", async () => {
    database = await createTestDatabase(kind);
    const writer = createMetricWriter(database.db, { logger: silentLogger });
    const id = await addServer("text");
    const odd = sample(1, t0);
    const mount = 'C:\\data\tx\n"y"\r\\N é';
    const filesystem = {
      mount,
      device: "/dev/vda1",
      fsType: "ext4",
      totalBytes: 100,
      usedBytes: 25,
      availableBytes: 75,
    };
    const withOddMount = { ...odd, filesystems: [filesystem] };
    const gone = "00000000-0000-4000-8000-000000000000";
    // The same turn of the event loop: one group commit, in which the unknown server's batch fails.
    const results = await Promise.allSettled([
      writer.write(id, [withOddMount]),
      writer.write(gone, [sample(1, t0)]),
      writer.write(id, [sample(2, t0), sample(2, t0)]),
    ]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await count("metric_samples")).toBe(2);
    const [row] = rowsOf<{ mount: string }>(
      await database.db.execute(
        sql`select detail->'fs'->0->>0 as mount from metric_samples where server_id = ${id} and sequence = 1`,
      ),
    );
    expect(row?.mount).toBe(mount);
    await writer.close();
  });

  it("rolls samples up into minutes and hours, and folds late samples in", async () => {
    database = await createTestDatabase(kind);
    const id = await addServer("rolled");
    const writer = createMetricWriter(database.db, { logger: silentLogger, now: () => t0 });
    // Minute 10:00 gets cpu 10 and 30; minute 10:01 gets cpu 50.
    await writer.write(id, [sample(1, t0, 10), sample(2, new Date(t0.getTime() + 10_000), 30)]);
    await writer.write(id, [sample(3, new Date(t0.getTime() + 60_000), 50)]);
    await runRollups(database.db, { now: new Date(t0.getTime() + 1000), retention });
    const minutes = await getSeries(database.db, {
      serverId: id,
      from: t0,
      to: new Date(t0.getTime() + 3_600_000),
      resolution: "minute",
      now: t0,
      retention,
    });
    expect(minutes.points.map((p) => [p.samples, p.cpuPercent, p.cpuPercentMax])).toEqual([
      [2, 20, 30],
      [1, 50, 50],
    ]);

    // A sample replayed later for minute 10:00 is folded into that bucket and the hour.
    const later = createMetricWriter(database.db, {
      logger: silentLogger,
      now: () => new Date(t0.getTime() + 600_000),
    });
    await later.write(id, [sample(4, new Date(t0.getTime() + 20_000), 80)]);
    await runRollups(database.db, { now: new Date(t0.getTime() + 601_000), retention });
    const hours = await getSeries(database.db, {
      serverId: id,
      from: t0,
      to: new Date(t0.getTime() + 3_600_000),
      resolution: "hour",
      now: t0,
      retention,
    });
    expect(hours.points).toHaveLength(1);
    expect(hours.points[0]?.samples).toBe(4);
    expect(hours.points[0]?.cpuPercent).toBeCloseTo((10 + 30 + 80 + 50) / 4, 3);
    expect(hours.points[0]?.cpuPercentMax).toBe(80);
    await writer.close();
    await later.close();
  });

  it("chooses the resolution from the range, and serves raw points and the fleet snapshot", async () => {
    database = await createTestDatabase(kind);
    const now = new Date(t0.getTime() + 3_600_000);
    expect(chooseResolution(new Date(now.getTime() - 3_600_000), now, now, retention)).toBe("raw");
    expect(chooseResolution(new Date(now.getTime() - 12 * 3_600_000), now, now, retention)).toBe("minute");
    expect(chooseResolution(new Date(now.getTime() - 7 * 86_400_000), now, now, retention)).toBe("hour");
    expect(
      chooseResolution(
        new Date(now.getTime() - 4 * 86_400_000),
        new Date(now.getTime() - 4 * 86_400_000 + 60_000),
        now,
        retention,
      ),
    ).toBe("minute");

    const id = await addServer("a-server");
    const quiet = await addServer("b-server");
    const writer = createMetricWriter(database.db, { logger: silentLogger, now: () => t0 });
    await writer.write(id, [sample(1, t0, 10), sample(2, new Date(t0.getTime() + 10_000), 20)]);
    const series = await getSeries(database.db, { serverId: id, from: t0, to: now, now, retention });
    expect(series.resolution).toBe("raw");
    expect(series.points.map((p) => p.cpuPercent)).toEqual([10, 20]);
    expect(series.points[0]?.diskUsedPercent).toBe(25);

    const all = { all: true } as const;
    const snapshots = await getLatestSnapshots(database.db, { serverIds: [], scope: all });
    expect(snapshots.map((s) => [s.serverId, s.latest?.cpuPercent])).toEqual([
      [id, 20],
      [quiet, undefined],
    ]);
    await database.db
      .update(servers)
      .set({ tags: { env: "prod" } })
      .where(eq(servers.id, id));
    const prodOnly = { all: false, selectors: [parseSelector("env=prod")] } as const;
    const scoped = await getLatestSnapshots(database.db, { serverIds: [], scope: prodOnly });
    expect(scoped.map((s) => s.serverId)).toEqual([id]);
    await expect(getLatestSnapshots(database.db, { serverIds: ["nope"], scope: all })).rejects.toMatchObject({
      code: "invalid_argument",
    });

    // Pages by name: a server added before the cursor is neither repeated nor makes one skip.
    const first = await getLatestSnapshotPage(database.db, {
      serverIds: [],
      scope: all,
      pageSize: 1,
      pageToken: "",
    });
    expect(first.snapshots.map((s) => s.name)).toEqual(["a-server"]);
    await addServer("0-early");
    const second = await getLatestSnapshotPage(database.db, {
      serverIds: [],
      scope: all,
      pageSize: 1,
      pageToken: first.nextPageToken,
    });
    expect(second.snapshots.map((s) => [s.name, s.latest?.cpuPercent])).toEqual([["b-server", undefined]]);
    expect(second.nextPageToken).toBe("");
    const { db } = database;
    const page = (pageSize: number, pageToken: string, serverIds: string[] = []) =>
      getLatestSnapshotPage(db, { serverIds, scope: all, pageSize, pageToken });
    await expect(page(5001, "")).rejects.toMatchObject({ code: "invalid_argument", message: /page_size/ });
    await expect(page(1, `${first.nextPageToken}x`)).rejects.toMatchObject({ message: /page_token/ });
    // A token is bound to its ids.
    await expect(page(1, first.nextPageToken, [id])).rejects.toMatchObject({ message: /page_token/ });
    await writer.close();
  });
});
