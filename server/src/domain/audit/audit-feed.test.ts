import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { type AuditContext, systemContext } from "./audit-context.js";
import { type AuditFollowEvent, createAuditFeed } from "./audit-feed.js";
import { type AuditFilter, latestAuditId, matchesAuditFilter, readAuditEntries } from "./query-audit.js";
import { type AuditRow, recordAudit } from "./record-audit.js";

const alice: AuditContext = {
  actor: { type: "user", id: "u-alice", name: "alice" },
  sourceIp: "192.0.2.1",
  userAgent: "test",
};

async function write(database: TestDatabase, action: string, context = systemContext(), at = new Date()) {
  return database.db.transaction((tx) =>
    recordAudit(tx, context, { action, targetType: "thing", targetId: action }, at),
  );
}

type Seen = number | "caught up";

/** Reads `count` events of a follow (entry ids, or "caught up"), failing instead of hanging. */
async function take(stream: AsyncGenerator<AuditFollowEvent>, count: number, ms = 10_000): Promise<Seen[]> {
  const seen: Seen[] = [];
  const deadline = Date.now() + ms;
  while (seen.length < count) {
    const result = await Promise.race([
      stream.next(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`only ${seen.length} of ${count} events`)), deadline - Date.now()),
      ),
    ]);
    if (result.done) throw new Error("the follow ended");
    seen.push(result.value.kind === "entry" ? result.value.row.id : "caught up");
  }
  return seen;
}

describe.each(databaseKinds)("the audit feed on %s", (kind) => {
  let database: TestDatabase;
  // In a hook: a first PGlite start can take longer than a test under load, and is not under test.
  beforeEach(async () => {
    database = await createTestDatabase(kind);
  });
  afterEach(() => database.close());

  function feedOf(options: { bufferSize?: number } = {}) {
    // A ticker that never fires by itself: the test ticks, so what it sees is deterministic.
    return createAuditFeed({
      db: database.db,
      logger: pino({ level: "silent" }),
      tickMs: 3_600_000,
      ...options,
    });
  }

  it("catches up after a cursor, then sends each new matching entry to every follower", async () => {
    const old = await write(database, "server.update");
    await write(database, "user.create");
    const feed = feedOf();
    const controller = new AbortController();
    const servers = feed.follow({ action: "server." }, old.id - 1, controller.signal);
    const everything = feed.follow({}, undefined, controller.signal);

    expect(await take(servers, 2)).toEqual([old.id, "caught up"]);
    // Registered by asking for the first event; it starts after the log's end.
    expect(await take(everything, 1)).toEqual(["caught up"]);
    expect(feed.followers()).toBe(2);

    const update = await write(database, "server.update", alice);
    const login = await write(database, "auth.login", alice);
    const deletion = await write(database, "server.delete", alice);
    await feed.tick();
    expect(await take(servers, 2)).toEqual([update.id, deletion.id]);
    expect(await take(everything, 3)).toEqual([update.id, login.id, deletion.id]);

    controller.abort();
    await servers.return(undefined);
    await everything.return(undefined);
    expect(feed.followers()).toBe(0);
    feed.close();
  });

  it("bounds what it holds for a slow follower, which catches up from the database", async () => {
    const start = await write(database, "test.start");
    const feed = feedOf({ bufferSize: 3 });
    const controller = new AbortController();
    const follow = feed.follow({}, start.id, controller.signal);
    expect(await take(follow, 1)).toEqual(["caught up"]);
    const written: number[] = [];
    for (let i = 0; i < 10; i++) written.push((await write(database, `test.burst.${i}`)).id);
    await feed.tick();
    const more: number[] = [];
    for (let i = 0; i < 5; i++) more.push((await write(database, `test.more.${i}`)).id);
    await feed.tick();
    expect(await take(follow, 15)).toEqual([...written, ...more]);
    controller.abort();
    await follow.return(undefined);
    feed.close();
  });

  it("stops when the caller aborts while waiting, and ends every follow on close", async () => {
    const feed = feedOf();
    const controller = new AbortController();
    const follow = feed.follow({}, undefined, controller.signal);
    expect(await take(follow, 1)).toEqual(["caught up"]);
    const waiting = follow.next();
    expect(feed.followers()).toBe(1);
    controller.abort();
    expect((await waiting).done).toBe(true);
    expect(feed.followers()).toBe(0);

    const closing = feed.follow({}, undefined, new AbortController().signal);
    expect(await take(closing, 1)).toEqual(["caught up"]);
    const closed = closing.next();
    feed.close();
    expect((await closed).done).toBe(true);
  });

  it("matches in memory exactly the entries the SQL filter selects", async () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));
    await write(database, "server.update", alice, at(0));
    await write(database, "server.delete", systemContext(), at(10));
    await write(database, "serverx.update", alice, at(20));
    await write(database, "user.create", alice, at(30));
    await write(database, "auth.login", { ...alice, actor: { ...alice.actor, name: "bob" } }, at(40));
    const filters: AuditFilter[] = [
      {},
      { action: "server." },
      { action: "server.update" },
      { action: "server" },
      { actor: "alice" },
      { actor: "u-alice" },
      { target: "user.create" },
      { since: at(10), until: at(30) },
      { actor: "alice", action: "server.", since: at(0), until: at(20) },
    ];
    const all: AuditRow[] = [];
    for await (const row of readAuditEntries(database.db, {})) all.push(row);
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(await latestAuditId(database.db)).toBe(all.at(-1)?.id);
    for (const filter of filters) {
      const selected: number[] = [];
      for await (const row of readAuditEntries(database.db, filter)) selected.push(row.id);
      const matched = all.filter((row) => matchesAuditFilter(filter, row)).map((row) => row.id);
      expect(matched, JSON.stringify(filter)).toEqual(selected);
    }
  });
});
