import { asc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { servers } from "../../platform/db/schema/servers.js";
import { sshSessionChunks } from "../../platform/db/schema/ssh-sessions.js";
import { users } from "../../platform/db/schema/users.js";
import { indexSearchText } from "./index-search-text.js";
import { readRecordingText } from "./read-recording.js";
import { searchRecordings } from "./search-recordings.js";
import { type SessionStart, startSessionRecording } from "./session-recorder.js";

const printed = (cast: string) =>
  cast
    .split("\n")
    .slice(1)
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as [number, string, string])
    .filter(([, code]) => code === "o")
    .map(([, , data]) => data)
    .join("");

describe.each(databaseKinds)("recorder batches and the search indexer (%s)", (kind) => {
  let database: TestDatabase;
  let start: SessionStart;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    const [user] = await database.db.insert(users).values({ username: "bob", passwordHash: "x" }).returning();
    const [server] = await database.db.insert(servers).values({ name: "db-1", status: "active" }).returning();
    start = {
      userId: user?.id ?? "",
      serverId: server?.id ?? "",
      login: "odoo",
      kind: "exec",
      cols: 80,
      rows: 24,
      clientAddress: "192.0.2.8:51000",
    };
  });
  afterAll(async () => {
    await database?.close();
  });

  it("writes fast output as several chunks per transaction, in order, searchable before and after indexing", async () => {
    const recorder = await startSessionRecording(database.db, start, {
      recordInput: false,
      maxBytes: 1 << 24,
      chunkBytes: 1024,
      batchBytes: 16 * 1024,
    });
    let resume: (() => void) | undefined;
    recorder.onDrain(() => resume?.());
    const lines = Array.from({ length: 800 }, (_, i) =>
      i === 700 ? "the needle-7c1f is here\r\n" : `line ${i} of some output\r\n`,
    );
    for (const line of lines) {
      // A gateway that honours the pause, as session-relay.ts does.
      if (!recorder.output(Buffer.from(line))) await new Promise<void>((go) => (resume = go));
    }
    await recorder.end({ exitStatus: 0, reason: "exit" });

    const chunks = await database.db
      .select({
        seq: sshSessionChunks.seq,
        indexed: sshSessionChunks.searchIndexed,
        createdAt: sshSessionChunks.createdAt,
      })
      .from(sshSessionChunks)
      .where(eq(sshSessionChunks.sessionId, recorder.sessionId))
      .orderBy(asc(sshSessionChunks.seq));
    expect(chunks.map((chunk) => chunk.seq)).toEqual(chunks.map((_, i) => i));
    // One transaction's rows share now(): a write carried several chunks (group commit), and
    // those were left to the indexer.
    const perTransaction = new Map<number, number>();
    for (const chunk of chunks) {
      const at = chunk.createdAt.getTime();
      perTransaction.set(at, (perTransaction.get(at) ?? 0) + 1);
    }
    expect(Math.max(...perTransaction.values())).toBeGreaterThan(1);
    const unindexed = chunks.filter((chunk) => !chunk.indexed).length;
    expect(unindexed).toBeGreaterThan(0);
    expect(printed(await readRecordingText(database.db, recorder.sessionId))).toBe(lines.join(""));

    const find = async () =>
      (await searchRecordings(database.db, { scope: { all: true }, query: "NEEDLE-7c1f" })).map((hit) => ({
        id: hit.session.id,
        snippet: hit.snippet.includes("needle-7c1f is here"),
      }));
    expect(await find()).toEqual([{ id: recorder.sessionId, snippet: true }]);

    // The indexer works the backlog off a few chunks per statement, then finds nothing to do.
    let indexed = 0;
    for (let n = await indexSearchText(database.db, { maxChunks: 3 }); n > 0; ) {
      indexed += n;
      n = await indexSearchText(database.db, { maxChunks: 3 });
    }
    expect(indexed).toBe(unindexed);
    const left = await database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(sshSessionChunks)
      .where(sql`not ${sshSessionChunks.searchIndexed}`);
    expect(left[0]?.n).toBe(0);
    expect(await find()).toEqual([{ id: recorder.sessionId, snippet: true }]);
    expect(await searchRecordings(database.db, { scope: { all: true }, query: "needle-0000" })).toEqual([]);
  });
});
