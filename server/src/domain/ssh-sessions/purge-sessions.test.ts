import { eq, inArray, sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { servers } from "../../platform/db/schema/servers.js";
import { sshSessionChunks, sshSessions } from "../../platform/db/schema/ssh-sessions.js";
import { closeInterruptedSessions, purgeExpiredSessions } from "./purge-sessions.js";
import { startRecordingsMaintenance } from "./recordings-maintenance.js";

const DAY = 86_400_000;

describe.each(databaseKinds)("session retention and the interrupted-session sweep (%s)", (kind) => {
  let database: TestDatabase;
  let serverId: string;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    const [server] = await database.db
      .insert(servers)
      .values({ name: "web-1", status: "active" })
      .returning();
    serverId = server?.id ?? "";
  });
  afterAll(async () => {
    await database?.close();
  });

  /** A session that began `startedDaysAgo` and ended `endedDaysAgo` (null: still open), with one chunk. */
  const session = async (startedDaysAgo: number, endedDaysAgo: number | null, recordedSecondsAgo = 0) => {
    const now = Date.now();
    const [row] = await database.db
      .insert(sshSessions)
      .values({
        username: "alice",
        serverId,
        serverName: "web-1",
        login: "odoo",
        kind: "shell",
        cols: 80,
        rows: 24,
        startedAt: new Date(now - startedDaysAgo * DAY),
        endedAt: endedDaysAgo === null ? null : new Date(now - endedDaysAgo * DAY),
        recordedUntil: new Date(now - recordedSecondsAgo * 1000),
      })
      .returning();
    const id = row?.id ?? "";
    await database.db
      .insert(sshSessionChunks)
      .values({ sessionId: id, seq: 0, events: '[0.1, "o", "x"]\n', searchText: "x" });
    return id;
  };
  const existing = async (ids: string[]) =>
    (await database.db.select({ id: sshSessions.id }).from(sshSessions).where(inArray(sshSessions.id, ids)))
      .map((row) => row.id)
      .sort();

  it("purges sessions and recordings that ended before the retention, nothing else", async () => {
    const old = await session(40, 31);
    const recent = await session(40, 29);
    const openLong = await session(60, null);
    expect(await purgeExpiredSessions(database.db, { retentionDays: 30, now: new Date() })).toBe(1);
    expect(await existing([old, recent, openLong])).toEqual([recent, openLong].sort());
    const chunks = await database.db
      .select()
      .from(sshSessionChunks)
      .where(eq(sshSessionChunks.sessionId, old));
    expect(chunks).toEqual([]);
    expect(await purgeExpiredSessions(database.db, { retentionDays: 30, now: new Date() })).toBe(0);
  });

  it("closes sessions left open by a process that stopped, at their last recorded moment", async () => {
    const orphan = await session(1, null, 120);
    const alive = await session(1, null, 2);
    expect(await closeInterruptedSessions(database.db)).toBeGreaterThanOrEqual(1);
    const rows = await database.db
      .select({
        id: sshSessions.id,
        endReason: sshSessions.endReason,
        endedAt: sshSessions.endedAt,
        recordedUntil: sshSessions.recordedUntil,
        durationMs: sshSessions.durationMs,
      })
      .from(sshSessions)
      .where(inArray(sshSessions.id, [orphan, alive]));
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(orphan)?.endReason).toBe("interrupted");
    expect(byId.get(orphan)?.endedAt).toEqual(byId.get(orphan)?.recordedUntil);
    expect(byId.get(orphan)?.durationMs).toBeGreaterThan(DAY - 200_000);
    expect(byId.get(alive)?.endedAt).toBeNull();
  });

  it("runs both from the periodic job", async () => {
    const old = await session(400, 100);
    const orphan = await session(1, null, 300);
    const job = startRecordingsMaintenance({
      db: database.db,
      logger: pino({ level: "silent" }),
      retentionDays: 90,
      firstAfterMs: 0,
      everyMs: 60_000,
    });
    try {
      const began = Date.now();
      while ((await existing([old])).length > 0 && Date.now() - began < 5000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await job.stop();
    }
    expect(await existing([old])).toEqual([]);
    const [closed] = await database.db
      .select({ endReason: sshSessions.endReason })
      .from(sshSessions)
      .where(sql`${sshSessions.id} = ${orphan}`);
    expect(closed?.endReason).toBe("interrupted");
  });
});
