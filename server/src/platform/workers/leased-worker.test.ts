import { eq, sql } from "drizzle-orm";
import { integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestClock } from "../../../test/support/test-clock.js";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { createDatabase, type Database } from "../db/database.js";
import { notifyOn } from "../db/notifications.js";
import { createLeasedWorker, type LeasedWorker } from "./leased-worker.js";
import {
  claimLeadership,
  claimLeasedRows,
  type LeaseInput,
  releaseLeadership,
  releaseRowLeases,
  renewRowLease,
} from "./leases.js";

/** A work table of the usual shape, made by the test in its own database. */
const work = pgTable("test_work", {
  id: text("id").primaryKey(),
  dueAt: timestamp("due_at", { withTimezone: true }).notNull(),
  runs: integer("runs").notNull().default(0),
  leaseOwner: text("lease_owner"),
  leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
});
const leasedWork = { table: work, key: work.id, owner: work.leaseOwner, expiresAt: work.leaseExpiresAt };
const leaders = pgTable("test_leaders", {
  name: text("name").primaryKey(),
  owner: text("owner").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
});

const CHANNEL = "ocore_test_work";
const t0 = new Date("2026-01-01T00:00:00Z");
const logger = pino({ level: "silent" });

describe.each(databaseKinds)("leased work on %s", (kind) => {
  let database: TestDatabase;
  /** A second connection pool to the same database (another process), on PostgreSQL. */
  let other: Database | undefined;
  const workers: LeasedWorker[] = [];

  // One database per engine (a PGlite takes seconds to start): each test empties the tables.
  beforeAll(async () => {
    database = await createTestDatabase(kind, { migrate: false }); // its own tables only
    await database.db.execute(sql`
      create table test_work (id text primary key, due_at timestamptz not null,
        runs integer not null default 0, lease_owner text, lease_expires_at timestamptz)`);
    await database.db.execute(sql`
      create table test_leaders (name text primary key, owner text not null, expires_at timestamptz not null)`);
    if (database.url) other = createDatabase({ kind: "postgres", url: database.url, poolSize: 4 });
  });
  afterEach(() => Promise.all(workers.splice(0).map((worker) => worker.stop())));
  afterAll(async () => {
    await other?.close();
    await database?.close();
  });

  const open = async (rows: number) => {
    await database.db.execute(sql`truncate test_work, test_leaders`);
    const ids = Array.from({ length: rows }, (_, i) => `w${String(i).padStart(2, "0")}`);
    if (rows > 0) await database.db.insert(work).values(ids.map((id) => ({ id, dueAt: t0 })));
    return ids;
  };
  const claim = (db: Database["db"], limit: number, lease: LeaseInput) =>
    claimLeasedRows(db, leasedWork, {
      ...lease,
      limit,
      due: sql`${work.dueAt} <= ${lease.now.toISOString()}::timestamptz`,
      orderBy: [work.dueAt, work.id],
    });
  const runsOf = async () =>
    Object.fromEntries((await database.db.select().from(work)).map((row) => [row.id, row.runs]));

  it("never gives one row to two claimers, and gives a dead owner's row to the next after expiry", async () => {
    const ids = await open(10);
    const pools = [database.db, other?.db ?? database.db];
    const claims = await Promise.all(
      ["a", "b", "c", "d", "e"].map((owner, i) =>
        claim(pools[i % 2] ?? database.db, 3, { owner, leaseMs: 30_000, now: t0 }),
      ),
    );
    const claimed = claims.flat().map((row) => row.id);
    expect(claimed.sort()).toEqual(ids);
    expect(claims.every((rows) => rows.every((row) => row.leaseOwner === rows[0]?.leaseOwner))).toBe(true);
    expect(await claim(database.db, 3, { owner: "f", leaseMs: 30_000, now: t0 })).toEqual([]);

    // a renews; the others died. Before their leases run out nothing is claimable...
    const held = claims[0]?.map((row) => row.id) ?? [];
    const t20 = new Date(t0.getTime() + 20_000);
    for (const id of held) {
      expect(
        await renewRowLease(database.db, leasedWork, { key: id, owner: "a", leaseMs: 30_000, now: t20 }),
      ).toBe(true);
      expect(
        await renewRowLease(database.db, leasedWork, { key: id, owner: "f", leaseMs: 30_000, now: t20 }),
      ).toBe(false);
    }
    expect(await claim(database.db, 10, { owner: "f", leaseMs: 30_000, now: t20 })).toEqual([]);
    // ...after, f takes over every row but a's (renewed until t0 + 50 s).
    const t40 = new Date(t0.getTime() + 40_000);
    const takenOver = await claim(database.db, 10, { owner: "f", leaseMs: 30_000, now: t40 });
    expect(takenOver.map((row) => row.id).sort()).toEqual(ids.filter((id) => !held.includes(id)));
    expect(takenOver.every((row) => row.leaseOwner === "f")).toBe(true);
    // The old owner cannot renew what was taken over; a release gives f's rows back at once.
    const lost = claims[1]?.[0]?.id ?? "";
    expect(
      await renewRowLease(database.db, leasedWork, { key: lost, owner: "b", leaseMs: 30_000, now: t40 }),
    ).toBe(false);
    await releaseRowLeases(database.db, leasedWork, { owner: "f" });
    expect((await claim(database.db, 10, { owner: "g", leaseMs: 30_000, now: t40 })).length).toBe(
      takenOver.length,
    );
  });

  it("runs each row once across two workers at full concurrency, never two holders at a time", async () => {
    const ids = await open(16);
    const holding = new Map<string, string>();
    const overlaps: string[] = [];
    const makeWorker = (db: Database["db"]) =>
      createLeasedWorker<typeof work.$inferSelect>({
        db,
        logger,
        now: () => t0,
        pollMs: 60_000,
        leaseMs: 30_000,
        concurrency: 3,
        claim: (limit, lease) => claim(db, limit, lease),
        renew: (row, lease) => renewRowLease(db, leasedWork, { ...lease, key: row.id }),
        run: async (row, { owner }) => {
          if (holding.has(row.id)) overlaps.push(row.id);
          holding.set(row.id, owner);
          await new Promise((resolve) => setTimeout(resolve, 5));
          await db
            .update(work)
            .set({ runs: sql`${work.runs} + 1`, dueAt: new Date(t0.getTime() + 3_600_000), leaseOwner: null })
            .where(eq(work.id, row.id));
          holding.delete(row.id);
        },
        describe: (row) => ({ key: row.id }),
      });
    const a = makeWorker(database.db);
    const b = makeWorker(other?.db ?? database.db);
    workers.push(a, b);
    const [ranA, ranB] = await Promise.all([a.runDue(), b.runDue()]);
    expect(ranA + ranB).toBe(ids.length);
    expect(overlaps).toEqual([]);
    expect(Object.values(await runsOf())).toEqual(ids.map(() => 1));
  });

  it("aborts a run whose lease was taken, and on stop aborts, drains and releases", async () => {
    await open(2);
    const clock = createTestClock(t0);
    const aborted: string[] = [];
    const worker = createLeasedWorker<typeof work.$inferSelect>({
      db: database.db,
      logger,
      now: clock.now,
      pollMs: 60_000,
      leaseMs: 600,
      concurrency: 2,
      claim: (limit, lease) => claim(database.db, limit, lease),
      renew: (row, lease) => renewRowLease(database.db, leasedWork, { ...lease, key: row.id }),
      run: (row, { signal, stopping }) =>
        new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => {
            aborted.push(`${row.id}:${stopping() ? "stop" : "lost"}`);
            resolve();
          }),
        ),
      release: (owner) => releaseRowLeases(database.db, leasedWork, { owner }),
      describe: (row) => ({ key: row.id }),
    });
    workers.push(worker);
    worker.start();
    await expect
      .poll(async () => (await database.db.select().from(work)).every((row) => row.leaseOwner))
      .toBe(true);
    // Another owner took w00 over (as after an expiry): the next renewal finds it gone.
    await database.db.update(work).set({ leaseOwner: "thief" }).where(eq(work.id, "w00"));
    await expect.poll(() => aborted, { timeout: 3_000 }).toEqual(["w00:lost"]);
    await worker.stop();
    expect(aborted).toEqual(["w00:lost", "w01:stop"]);
    const rows = await database.db.select().from(work).orderBy(work.id);
    expect(rows.map((row) => row.leaseOwner)).toEqual(["thief", null]);
  });

  it("wakes on NOTIFY from another connection (PostgreSQL) or on wake() (PGlite), not only by polling", async () => {
    await open(0);
    const ran: string[] = [];
    let claims = 0;
    const worker = createLeasedWorker<typeof work.$inferSelect>({
      db: database.db,
      logger,
      now: () => new Date(),
      pollMs: 600_000,
      leaseMs: 30_000,
      concurrency: 1,
      channel: CHANNEL,
      claim: (limit, lease) => {
        claims += 1;
        return claim(database.db, limit, lease);
      },
      renew: async () => true,
      run: async (row) => {
        ran.push(row.id);
        await database.db
          .update(work)
          .set({ dueAt: new Date(Date.now() + 3_600_000) })
          .where(eq(work.id, row.id));
      },
      describe: (row) => ({ key: row.id }),
    });
    workers.push(worker);
    worker.start();
    await expect.poll(() => claims).toBe(1); // the first poll found nothing; the next is 10 min away
    const enqueuer = other?.db ?? database.db;
    await enqueuer.insert(work).values({ id: "late", dueAt: new Date(Date.now() - 1_000) });
    // Until the LISTEN is in place a notification may go unheard: send it until the run.
    await expect
      .poll(
        async () => {
          if (kind === "pglite") worker.wake();
          else await notifyOn(enqueuer, CHANNEL);
          return ran;
        },
        { timeout: 5_000, interval: 250 },
      )
      .toEqual(["late"]);
  });

  it("logs a claim outage once, and once when claiming works again", async () => {
    await open(1);
    const lines: { level: number; msg: string }[] = [];
    const worker = createLeasedWorker<typeof work.$inferSelect>({
      db: database.db,
      logger: pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
      now: () => t0,
      pollMs: 60_000,
      leaseMs: 30_000,
      concurrency: 1,
      claim: (limit, lease) => claim(database.db, limit, lease),
      renew: async () => true,
      run: async (row) => {
        await database.db
          .update(work)
          .set({ dueAt: new Date(t0.getTime() + 60_000) })
          .where(eq(work.id, row.id));
      },
      describe: (row) => ({ key: row.id }),
    });
    workers.push(worker);
    // The database fails for real: the work table is gone for three polls.
    await database.db.execute(sql`alter table test_work rename to test_work_away`);
    for (let poll = 0; poll < 3; poll += 1) expect(await worker.runDue()).toBe(0);
    await database.db.execute(sql`alter table test_work_away rename to test_work`);
    expect(await worker.runDue()).toBe(1);
    expect(await worker.runDue()).toBe(0);
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [50, "could not claim work; retrying"],
      [30, "claiming works again"],
    ]);
  });

  it("gives one leader the periodic lease until it stops renewing or releases it", async () => {
    await open(0);
    const lease = (owner: string, ms: number) => ({
      name: "cycle",
      owner,
      leaseMs: 30_000,
      now: new Date(t0.getTime() + ms),
    });
    const first = await Promise.all([
      claimLeadership(database.db, leaders, lease("a", 0)),
      claimLeadership(other?.db ?? database.db, leaders, lease("b", 0)),
    ]);
    expect(first.filter(Boolean)).toHaveLength(1);
    const [leader, follower] = first[0] ? ["a", "b"] : ["b", "a"];
    expect(await claimLeadership(database.db, leaders, lease(leader, 20_000))).toBe(true);
    expect(await claimLeadership(database.db, leaders, lease(follower, 40_000))).toBe(false);
    // The leader died (no renewal since 20 s): after 50 s the follower takes over.
    expect(await claimLeadership(database.db, leaders, lease(follower, 51_000))).toBe(true);
    expect(await claimLeadership(database.db, leaders, lease(leader, 52_000))).toBe(false);
    await releaseLeadership(database.db, leaders, { name: "cycle", owner: leader });
    expect(await claimLeadership(database.db, leaders, lease(leader, 53_000))).toBe(false);
    await releaseLeadership(database.db, leaders, { name: "cycle", owner: follower });
    expect(await claimLeadership(database.db, leaders, lease(leader, 53_000))).toBe(true);
  });
});
