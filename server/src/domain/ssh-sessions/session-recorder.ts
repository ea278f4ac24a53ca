import { performance } from "node:perf_hooks";
import { eq, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { servers } from "../../platform/db/schema/servers.js";
import { sshSessionChunks, sshSessions } from "../../platform/db/schema/ssh-sessions.js";
import { users } from "../../platform/db/schema/users.js";
import { AppError } from "../../platform/errors/app-error.js";
import { castEventLine, type EventCode } from "./asciicast.js";
import {
  RecordingFailure,
  type RecordingSettings,
  type SessionEnd,
  type SessionRecorder,
  type SessionStart,
} from "./recorder-types.js";
import { createTerminalTextFilter } from "./terminal-text.js";

export {
  RecordingFailure,
  type RecordingFailureReason,
  type RecordingSettings,
  type SessionEnd,
  type SessionRecorder,
  type SessionStart,
} from "./recorder-types.js";

/** Characters of the previous chunk's text repeated before a chunk's, so cut words are found. */
export const SEARCH_OVERLAP = 64;
const DEFAULTS = {
  flushEveryMs: 1000,
  chunkBytes: 64 * 1024,
  batchBytes: 1024 * 1024,
  maxBacklogBytes: 8 * 1024 * 1024,
  heartbeatMs: 5000,
};
const MAX_TERMINAL_SIDE = 10_000;
/** Chunk rows per insert statement within one write (decision 0210). */
const ROWS_PER_STATEMENT = 4;

const dimension = (field: string, value: number): number => {
  if (!Number.isInteger(value) || value < 1 || value > MAX_TERMINAL_SIDE)
    throw AppError.invalid(field, `must be a whole number from 1 to ${MAX_TERMINAL_SIDE}`);
  return value;
};

/**
 * Opens the session's row and returns its recorder. Events are kept in memory only until the
 * next write: at least every `flushEveryMs`, at once when `chunkBytes` are pending, and on end.
 * Writes never overlap (one in flight per session), so chunks are in order; what arrives during
 * a write goes in the next one, up to `batchBytes` as several chunk rows in one transaction
 * (group commit, decision 0210). Past two batches pending, `output` asks the caller to pause;
 * a caller that does not, meets `maxBacklogBytes` and the session is ended.
 */
export async function startSessionRecording(
  db: Db,
  start: SessionStart,
  settings: RecordingSettings = { recordInput: false, maxBytes: 256 * 1024 * 1024 },
): Promise<SessionRecorder> {
  AppError.requireId(start.userId, "userId");
  AppError.requireId(start.serverId, "serverId");
  const cols = dimension("cols", start.cols);
  const rows = dimension("rows", start.rows);
  const [user] = await db.select({ username: users.username }).from(users).where(eq(users.id, start.userId));
  const [server] = await db
    .select({ name: servers.name })
    .from(servers)
    .where(eq(servers.id, start.serverId));
  if (!user) throw AppError.notFound(`user ${start.userId}`);
  if (!server) throw AppError.notFound(`server ${start.serverId}`);
  const [row] = await db
    .insert(sshSessions)
    .values({
      userId: start.userId,
      username: user.username,
      serverId: start.serverId,
      serverName: server.name,
      login: start.login,
      clientAddress: start.clientAddress,
      kind: start.kind,
      command: start.command ?? null,
      cols,
      rows,
      recordsInput: settings.recordInput,
    })
    .returning({ id: sshSessions.id, startedAt: sshSessions.startedAt });
  if (!row) throw new Error("the session row was not written");
  return createRecorder(db, row.id, settings);
}

function createRecorder(db: Db, sessionId: string, settings: RecordingSettings): SessionRecorder {
  const flushEveryMs = settings.flushEveryMs ?? DEFAULTS.flushEveryMs;
  const chunkBytes = settings.chunkBytes ?? DEFAULTS.chunkBytes;
  const batchBytes = Math.max(chunkBytes, settings.batchBytes ?? DEFAULTS.batchBytes);
  const maxBacklogBytes = settings.maxBacklogBytes ?? DEFAULTS.maxBacklogBytes;
  const heartbeatMs = settings.heartbeatMs ?? DEFAULTS.heartbeatMs;
  // Pause the caller past two batches (or half the allowed backlog), go on below one batch.
  const highWater = Math.min(2 * batchBytes, Math.floor(maxBacklogBytes / 2));
  const lowWater = Math.min(batchBytes, Math.floor(highWater / 2));
  const origin = performance.now();
  const outDecoder = new TextDecoder("utf-8");
  const inDecoder = new TextDecoder("utf-8");
  const outText = createTerminalTextFilter();
  const inText = createTerminalTextFilter();

  /** Events not yet written, each with its size and its searchable text (printed or typed). */
  let pending: Array<{ line: string; size: number; text: string; typed?: boolean }> = [];
  let pendingBytes = 0;
  let storedBytes = 0;
  let truncated = false;
  let textTail = "";
  let seq = 0;
  let bytesIn = 0;
  let bytesOut = 0;
  let lastWriteAt = performance.now();
  let failure: RecordingFailure | undefined;
  let ended = false;
  const failureCallbacks: Array<(failure: RecordingFailure) => void> = [];
  const drainCallbacks: Array<() => void> = [];
  let paused = false;
  let running: Promise<void> | undefined;
  let again = false;

  const fail = (next: RecordingFailure, error?: unknown) => {
    if (failure) return;
    failure = next;
    if (error)
      settings.logger?.error({ err: error, sessionId }, "session recording failed; ending the session");
    for (const callback of failureCallbacks) callback(next);
  };

  const append = (code: EventCode, data: string, text: string) => {
    const typed = code === "i";
    const line = castEventLine((performance.now() - origin) / 1000, code, data);
    const size = Buffer.byteLength(line);
    if (storedBytes + pendingBytes + size > settings.maxBytes) {
      const mb = Math.round(settings.maxBytes / (1024 * 1024));
      const message = `The session recording reached its limit of ${mb} MB (OCORE_SSH_RECORDING_MAX_MB); the session is ended.`;
      const notice = castEventLine((performance.now() - origin) / 1000, "o", `\r\n[oCore] ${message}\r\n`);
      const noticeSize = Buffer.byteLength(notice);
      pending.push({ line: notice, size: noticeSize, text: `\n[oCore] ${message}\n` });
      pendingBytes += noticeSize;
      truncated = true;
      fail(new RecordingFailure("size_limit", message));
      kick();
      return;
    }
    pending.push({ line, size, text, typed });
    pendingBytes += size;
    if (pendingBytes > maxBacklogBytes) {
      fail(
        new RecordingFailure(
          "backlog",
          "The session recording cannot keep up with the output; the session is ended.",
        ),
      );
      return;
    }
    if (pendingBytes >= chunkBytes) kick();
  };

  /** Takes the oldest pending events as chunks of at most `chunkBytes` (one event alone may be more). */
  const takeChunks = (limit: number) => {
    const chunks: Array<{ events: string; searchText: string; size: number }> = [];
    let taken = 0;
    while (pending.length > 0 && taken < limit) {
      let take = 0;
      let size = 0;
      while (take < pending.length && (take === 0 || size + (pending[take]?.size ?? 0) <= chunkBytes)) {
        size += pending[take]?.size ?? 0;
        take += 1;
      }
      const events = pending.slice(0, take);
      pending = pending.slice(take);
      pendingBytes -= size;
      taken += size;
      // What was printed reads on (the echo of typing included); what was typed, when recorded,
      // follows on its own lines so keystrokes do not interleave with the output they caused.
      const printed = events
        .filter((event) => !event.typed)
        .map((event) => event.text)
        .join("");
      const typed = events
        .filter((event) => event.typed)
        .map((event) => event.text)
        .join("");
      const printedText = textTail + printed;
      textTail = printedText.slice(-SEARCH_OVERLAP);
      chunks.push({
        events: events.map((event) => event.line).join(""),
        searchText: typed ? `${printedText}\n${typed}` : printedText,
        size,
      });
    }
    return chunks;
  };

  /**
   * Writes the oldest pending events, up to `batchBytes` as chunk rows in one transaction (maybe
   * none: a heartbeat), and, on end, closes the row. A write of one chunk (an interactive
   * session) is indexed for search at once; a batch (output faster than the database indexes
   * text) is left to the search indexer.
   */
  const writeOnce = async (end?: SessionEnd) => {
    const tailBefore = textTail;
    const chunks = takeChunks(batchBytes);
    const size = chunks.reduce((sum, chunk) => sum + chunk.size, 0);
    lastWriteAt = performance.now();
    const firstSeq = seq;
    seq += chunks.length;
    const indexed = chunks.length <= 1;
    let state: { endRequestedBy: string | null } | undefined;
    try {
      [state] = await db.transaction(async (tx) => {
        // A few chunks per statement, one commit for all: the embedded PGlite runs each statement
        // on this event loop, so a 1 MB statement would stall every other session meanwhile.
        for (let from = 0; from < chunks.length; from += ROWS_PER_STATEMENT) {
          await tx.insert(sshSessionChunks).values(
            chunks.slice(from, from + ROWS_PER_STATEMENT).map((chunk, index) => ({
              sessionId,
              seq: firstSeq + from + index,
              events: chunk.events,
              searchText: chunk.searchText,
              searchIndexed: indexed,
            })),
          );
        }
        return tx
          .update(sshSessions)
          .set({
            recordingBytes: sql`${sshSessions.recordingBytes} + ${size}`,
            recordingTruncated: truncated,
            bytesIn: end?.bytesIn ?? bytesIn,
            bytesOut: end?.bytesOut ?? bytesOut,
            recordedUntil: sql`now()`,
            ...(end
              ? {
                  endedAt: sql`now()`,
                  durationMs: sql`greatest(0, (extract(epoch from now() - ${sshSessions.startedAt}) * 1000)::bigint)`,
                  exitStatus: end.exitStatus ?? null,
                  endReason:
                    failure && end.reason !== failure.reason
                      ? `${end.reason}: ${failure.reason}`
                      : end.reason,
                }
              : {}),
          })
          .where(eq(sshSessions.id, sessionId))
          .returning({ endRequestedBy: sshSessions.endRequestedBy });
      });
    } catch (error) {
      textTail = tailBefore; // nothing was written; the session ends (fail closed) anyway
      throw error;
    }
    storedBytes += size;
    if (state?.endRequestedBy && !end) {
      fail(new RecordingFailure("end_requested", `The session was ended by ${state.endRequestedBy}.`));
    }
  };

  /** Starts writing unless a write is in flight (which then goes round again). */
  const kick = () => {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await writeOnce();
        } while (
          (again && pending.length > 0) ||
          pendingBytes >= chunkBytes ||
          (ended && pending.length > 0)
        );
      } catch (error) {
        fail(
          new RecordingFailure(
            "write_failed",
            "The session recording could not be written; the session is ended.",
          ),
          error,
        );
      } finally {
        running = undefined;
        if (paused && pendingBytes < lowWater) {
          paused = false;
          for (const callback of drainCallbacks) callback();
        }
      }
    })();
  };

  const timer = setInterval(() => {
    if (ended || failure?.reason === "write_failed") return;
    if (pending.length > 0 || performance.now() - lastWriteAt >= heartbeatMs) kick();
  }, flushEveryMs);
  timer.unref();

  // After a write failure or a backlog overflow nothing more is kept: the session is ending.
  const accepting = () =>
    !ended && !truncated && failure?.reason !== "write_failed" && failure?.reason !== "backlog";

  return {
    sessionId,
    output(bytes) {
      bytesOut += bytes.length;
      if (!accepting()) return true;
      const data = outDecoder.decode(bytes, { stream: true });
      if (data) append("o", data, outText.push(data));
      if (pendingBytes > highWater) paused = true;
      return !paused;
    },
    onDrain(callback) {
      drainCallbacks.push(callback);
    },
    input(bytes) {
      bytesIn += bytes.length;
      if (!settings.recordInput || !accepting()) return;
      const data = inDecoder.decode(bytes, { stream: true });
      if (data) append("i", data, inText.push(data));
    },
    resize(cols, rows) {
      if (!accepting()) return;
      append("r", `${dimension("cols", cols)}x${dimension("rows", rows)}`, "");
    },
    onFailure(callback) {
      failureCallbacks.push(callback);
      if (failure) callback(failure);
    },
    async end(outcome) {
      if (ended) return;
      if (accepting()) {
        // What a decoder still holds is an incomplete character: flushed as U+FFFD.
        const out = outDecoder.decode();
        if (out) append("o", out, outText.push(out));
        const typed = settings.recordInput ? inDecoder.decode() : "";
        if (typed) append("i", typed, inText.push(typed));
      }
      ended = true;
      clearInterval(timer);
      while (running) await running;
      try {
        while (pendingBytes > batchBytes) await writeOnce();
        await writeOnce(outcome);
      } catch (error) {
        // The session is over either way; the row stays open and the sweep closes it later.
        settings.logger?.error({ err: error, sessionId }, "the end of an SSH session was not recorded");
        fail(new RecordingFailure("write_failed", "The session recording could not be written."));
      }
    },
  };
}
