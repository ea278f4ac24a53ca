import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { servers } from "../../platform/db/schema/servers.js";
import { sshSessionChunks, sshSessions } from "../../platform/db/schema/ssh-sessions.js";
import { users } from "../../platform/db/schema/users.js";
import { readRecordingText } from "./read-recording.js";
import { type RecordingFailure, type SessionStart, startSessionRecording } from "./session-recorder.js";

const run = promisify(execFile);
const bytes = (text: string) => Buffer.from(text, "utf8");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The header and events of a .cast file, each line parsed (which also checks it is JSON). */
function parseCast(text: string): {
  header: Record<string, unknown>;
  events: Array<[number, string, string]>;
} {
  const lines = text.split("\n").filter((line) => line !== "");
  const [first, ...rest] = lines;
  return { header: JSON.parse(first ?? "{}"), events: rest.map((line) => JSON.parse(line)) };
}

const printed = (text: string) =>
  parseCast(text)
    .events.filter(([, code]) => code === "o")
    .map(([, , data]) => data)
    .join("");

async function asciinemaPath(): Promise<string | undefined> {
  try {
    return (await run("sh", ["-c", "command -v asciinema"])).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

describe.each(databaseKinds)("session recorder (%s)", (kind) => {
  let database: TestDatabase;
  let start: SessionStart;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    const [user] = await database.db
      .insert(users)
      .values({ username: "alice", passwordHash: "x" })
      .returning();
    const [server] = await database.db
      .insert(servers)
      .values({ name: "web-1", status: "active" })
      .returning();
    start = {
      userId: user?.id ?? "",
      serverId: server?.id ?? "",
      login: "odoo",
      kind: "shell",
      cols: 80,
      rows: 24,
      clientAddress: "192.0.2.7:51000",
    };
  });
  afterAll(async () => {
    await database?.close();
  });

  const chunksOf = (sessionId: string) =>
    database.db
      .select()
      .from(sshSessionChunks)
      .where(eq(sshSessionChunks.sessionId, sessionId))
      .orderBy(asc(sshSessionChunks.seq));
  const rowOf = async (sessionId: string) =>
    (await database.db.select().from(sshSessions).where(eq(sshSessions.id, sessionId)))[0];

  it("writes output within a second, before the session ends (a crash loses at most that)", async () => {
    const recorder = await startSessionRecording(database.db, start, {
      recordInput: false,
      maxBytes: 1 << 20,
    });
    recorder.output(bytes("$ uptime\r\n 20:01:45 up 3 days\r\n"));
    expect(await chunksOf(recorder.sessionId)).toEqual([]);
    const began = Date.now();
    while ((await chunksOf(recorder.sessionId)).length === 0) {
      expect(Date.now() - began, "no chunk after 1.5 s").toBeLessThan(1500);
      await sleep(50);
    }
    // What is stored so far is a complete file already (the process could die now).
    const partial = await readRecordingText(database.db, recorder.sessionId);
    expect(printed(partial)).toBe("$ uptime\r\n 20:01:45 up 3 days\r\n");
    expect((await rowOf(recorder.sessionId))?.endedAt).toBeNull();
    await recorder.end({ exitStatus: 0, reason: "exit" });
  });

  it("keeps UTF-8 characters whole when they arrive cut at every byte", async () => {
    const recorder = await startSessionRecording(database.db, start, {
      recordInput: true,
      maxBytes: 1 << 20,
    });
    const text = "é € 😀 ✓ naïve";
    for (const byte of bytes(text)) recorder.output(Uint8Array.of(byte));
    for (const byte of bytes("ls é\r")) recorder.input(Uint8Array.of(byte));
    // An incomplete last character is flushed as U+FFFD, not dropped silently.
    recorder.output(bytes("€").subarray(0, 2));
    await recorder.end({ exitStatus: 0, reason: "exit", bytesIn: 7, bytesOut: 99 });
    const cast = await readRecordingText(database.db, recorder.sessionId);
    expect(printed(cast)).toBe(`${text}\uFFFD`);
    const typed = parseCast(cast).events.filter(([, code]) => code === "i");
    expect(typed.map(([, , data]) => data).join("")).toBe("ls é\r");
    // Keystrokes are searchable on their own, not interleaved with what was printed.
    const [chunk] = await chunksOf(recorder.sessionId);
    expect(chunk?.searchText).toBe(`${text}\uFFFD\nls é`);
    expect(cast).not.toContain("\uFFFD\uFFFD");
    const row = await rowOf(recorder.sessionId);
    expect(row).toMatchObject({
      bytesIn: 7,
      bytesOut: 99,
      exitStatus: 0,
      endReason: "exit",
      recordsInput: true,
    });
  });

  it("records no keystrokes when input recording is off, but counts them", async () => {
    const recorder = await startSessionRecording(database.db, start, {
      recordInput: false,
      maxBytes: 1 << 20,
    });
    recorder.input(bytes("secret-password\r"));
    recorder.output(bytes("ok\r\n"));
    await recorder.end({ exitStatus: 0, reason: "exit" });
    const cast = await readRecordingText(database.db, recorder.sessionId);
    expect(cast).not.toContain("secret-password");
    expect(await rowOf(recorder.sessionId)).toMatchObject({ bytesIn: 16, bytesOut: 4, recordsInput: false });
  });

  it("splits a busy session into ordered chunks and records resizes and the end", async () => {
    const recorder = await startSessionRecording(database.db, start, {
      recordInput: false,
      maxBytes: 1 << 20,
      chunkBytes: 1024,
    });
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${"x".repeat(40)}\r\n`);
    for (const [i, line] of lines.entries()) {
      recorder.output(bytes(line));
      if (i === 100) recorder.resize(132, 43);
      if (i % 50 === 0) await sleep(1);
    }
    await recorder.end({ exitStatus: 3, reason: "exit" });
    const chunks = await chunksOf(recorder.sessionId);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    for (const chunk of chunks) expect(chunk.events.endsWith("\n")).toBe(true);
    const cast = await readRecordingText(database.db, recorder.sessionId);
    const { header, events } = parseCast(cast);
    expect(header).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(printed(cast)).toBe(lines.join(""));
    expect(events.filter(([, code]) => code === "r")).toEqual([[expect.any(Number), "r", "132x43"]]);
    const times = events.map(([time]) => time);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const row = await rowOf(recorder.sessionId);
    expect(row?.exitStatus).toBe(3);
    expect(row?.endedAt).toBeInstanceOf(Date);
    expect(row?.durationMs).toBeGreaterThanOrEqual(0);
    expect(row?.recordingBytes).toBe(
      Buffer.byteLength(cast) - Buffer.byteLength(cast.split("\n")[0] ?? "") - 1,
    );
  });

  it("ends the session when its recording reaches the size limit, keeping it up to there", async () => {
    const recorder = await startSessionRecording(database.db, start, { recordInput: false, maxBytes: 4096 });
    const failures: RecordingFailure[] = [];
    recorder.onFailure((failure) => failures.push(failure));
    for (let i = 0; i < 100; i++) recorder.output(bytes(`${"y".repeat(100)}\r\n`));
    expect(failures.map((f) => f.reason)).toEqual(["size_limit"]);
    expect(failures[0]?.message).toContain("limit of 0 MB");
    recorder.output(bytes("after the limit\r\n"));
    await recorder.end({ exitStatus: null, reason: "recording_limit" });
    const cast = await readRecordingText(database.db, recorder.sessionId);
    expect(cast).not.toContain("after the limit");
    expect(printed(cast)).toContain("[oCore] The session recording reached its limit");
    const row = await rowOf(recorder.sessionId);
    expect(row?.recordingTruncated).toBe(true);
    expect(row?.recordingBytes).toBeLessThan(4096 + 300);
    expect(row?.bytesOut).toBe(100 * 102 + 17);
  });

  it("asks the gateway to pause while chunks wait, and says when to go on (bounded memory)", async () => {
    const recorder = await startSessionRecording(database.db, start, {
      recordInput: false,
      maxBytes: 1 << 24,
      chunkBytes: 1024,
      maxBacklogBytes: 64 * 1024,
    });
    const failures: RecordingFailure[] = [];
    recorder.onFailure((failure) => failures.push(failure));
    let drained = 0;
    recorder.onDrain(() => drained++);
    const piece = bytes(`${"z".repeat(500)}\r\n`);
    let sent = 0;
    // A gateway that honours the answer: stop reading when told, go on at the drain.
    for (let round = 0; round < 20; round++) {
      while (recorder.output(piece)) sent++;
      sent++;
      const before = drained;
      while (drained === before) await sleep(5);
    }
    await recorder.end({ exitStatus: 0, reason: "exit" });
    expect(failures).toEqual([]);
    expect(drained).toBe(20);
    expect(printed(await readRecordingText(database.db, recorder.sessionId))).toBe(
      piece.toString().repeat(sent),
    );

    // One that ignores it is ended at maxBacklogBytes, and nothing more is buffered.
    const careless = await startSessionRecording(database.db, start, {
      recordInput: false,
      maxBytes: 1 << 24,
      chunkBytes: 1024,
      maxBacklogBytes: 64 * 1024,
    });
    const carelessFailures: RecordingFailure[] = [];
    careless.onFailure((failure) => carelessFailures.push(failure));
    for (let i = 0; i < 1000; i++) careless.output(piece);
    expect(carelessFailures.map((failure) => failure.reason)).toEqual(["backlog"]);
    await careless.end({ exitStatus: null, reason: "recording_failed" });
    const stored = (await rowOf(careless.sessionId))?.recordingBytes ?? 0;
    // The backlog, the chunk in flight, and the one event that crossed the line.
    expect(stored).toBeLessThanOrEqual(64 * 1024 + 1024 + 600);
  });

  it("fails closed when a write fails: the gateway is told once, with a message", async () => {
    const recorder = await startSessionRecording(database.db, start, {
      recordInput: false,
      maxBytes: 1 << 20,
      flushEveryMs: 50,
    });
    const failures: RecordingFailure[] = [];
    recorder.onFailure((failure) => failures.push(failure));
    // The row disappears under the recorder: the next chunk violates its foreign key.
    await database.db.delete(sshSessions).where(eq(sshSessions.id, recorder.sessionId));
    recorder.output(bytes("lost\r\n"));
    const began = Date.now();
    while (failures.length === 0 && Date.now() - began < 2000) await sleep(20);
    expect(failures.map(({ reason, message }) => ({ reason, message }))).toEqual([
      {
        reason: "write_failed",
        message: "The session recording could not be written; the session is ended.",
      },
    ]);
    expect(failures[0]).toBeInstanceOf(Error);
    await recorder.end({ exitStatus: null, reason: "recording_failed" });
    expect(failures).toHaveLength(1);
  });

  it("tells the gateway when an administrator ended the session from elsewhere", async () => {
    const recorder = await startSessionRecording(database.db, start, {
      recordInput: false,
      maxBytes: 1 << 20,
      flushEveryMs: 50,
      heartbeatMs: 100,
    });
    const failures: RecordingFailure[] = [];
    recorder.onFailure((failure) => failures.push(failure));
    await database.db
      .update(sshSessions)
      .set({ endRequestedBy: "bob" })
      .where(eq(sshSessions.id, recorder.sessionId));
    const began = Date.now();
    while (failures.length === 0 && Date.now() - began < 2000) await sleep(20);
    expect(failures.map(({ reason, message }) => ({ reason, message }))).toEqual([
      { reason: "end_requested", message: "The session was ended by bob." },
    ]);
    await recorder.end({ exitStatus: null, reason: "terminated" });
    expect((await rowOf(recorder.sessionId))?.endReason).toBe("terminated: end_requested");
  });

  it("refuses a bad start with the field named", async () => {
    await expect(startSessionRecording(database.db, { ...start, cols: 0 })).rejects.toThrow("cols: must be");
    await expect(startSessionRecording(database.db, { ...start, rows: 100_000 })).rejects.toThrow(
      "rows: must be",
    );
    await expect(startSessionRecording(database.db, { ...start, serverId: "nope" })).rejects.toThrow(
      "serverId: is not a valid id",
    );
  });

  it.runIf(kind === "pglite")("writes files that stock asciinema accepts", async (context) => {
    const asciinema = await asciinemaPath();
    if (!asciinema) {
      context.skip(
        "asciinema is not installed: run scripts/install-system-packages.sh (Debian package asciinema)",
      );
      return;
    }
    const recorder = await startSessionRecording(database.db, start, {
      recordInput: true,
      maxBytes: 1 << 20,
    });
    recorder.output(bytes("\u001b[1;32malice@web-1\u001b[0m:~$ "));
    recorder.input(bytes("echo héllo\r"));
    recorder.output(bytes("echo héllo\r\nhéllo 😀\r\n"));
    recorder.resize(100, 30);
    await recorder.end({ exitStatus: 0, reason: "exit" });
    const dir = await mkdtemp(path.join(tmpdir(), "hrec-cast-"));
    try {
      const file = path.join(dir, "session.cast");
      await writeFile(file, await readRecordingText(database.db, recorder.sessionId));
      // asciinema 2.2 reads keys from /dev/tty even for `cat`: give it a terminal with script(1).
      const { stdout } = await run("script", ["-qec", `${asciinema} cat ${file}`, "/dev/null"], {
        env: { ...process.env, LANG: "C.UTF-8" },
      });
      expect(stdout).toContain("héllo 😀");
      expect(stdout).toContain("alice@web-1");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
