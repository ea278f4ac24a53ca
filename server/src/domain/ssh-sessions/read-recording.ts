import { and, asc, eq, gt } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { sshSessionChunks, sshSessions } from "../../platform/db/schema/ssh-sessions.js";
import { AppError } from "../../platform/errors/app-error.js";
import { castHeaderLine } from "./asciicast.js";

/** Chunks read per query while streaming a recording (each up to the recorder's chunk size). */
const CHUNKS_PER_READ = 16;

export interface Recording {
  /** The file name a download suggests, e.g. "web-1-alice-2026-12-07T20-01-45Z.cast". */
  readonly fileName: string;
  /** Bytes of event lines stored (the header excluded). */
  readonly eventBytes: number;
  /** The .cast file piece by piece: the header line, then each chunk's event lines. */
  readonly lines: AsyncIterable<string>;
}

/**
 * A session's recording as an asciicast v2 file, read a few chunks at a time so a large
 * recording is never held whole in memory. A session still open gives what is written so far
 * (at most a second behind), which is itself a valid file.
 */
export async function readRecording(db: Db, sessionId: string): Promise<Recording> {
  AppError.requireId(sessionId, "id");
  const [session] = await db.select().from(sshSessions).where(eq(sshSessions.id, sessionId));
  if (!session) throw AppError.notFound(`session ${sessionId}`);
  const title = `${session.username}@${session.serverName} as ${session.login}`;
  const header = castHeaderLine({
    cols: session.cols,
    rows: session.rows,
    startedAt: session.startedAt,
    title,
    command: session.command,
  });
  const stamp = session.startedAt
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replaceAll(":", "-");
  const safe = (value: string) => value.replace(/[^A-Za-z0-9._-]+/g, "_");
  return {
    fileName: `${safe(session.serverName)}-${safe(session.username)}-${stamp}.cast`,
    eventBytes: session.recordingBytes,
    lines: (async function* () {
      yield header;
      let after = -1;
      for (;;) {
        const chunks = await db
          .select({ seq: sshSessionChunks.seq, events: sshSessionChunks.events })
          .from(sshSessionChunks)
          .where(and(eq(sshSessionChunks.sessionId, sessionId), gt(sshSessionChunks.seq, after)))
          .orderBy(asc(sshSessionChunks.seq))
          .limit(CHUNKS_PER_READ);
        for (const chunk of chunks) {
          after = chunk.seq;
          yield chunk.events;
        }
        if (chunks.length < CHUNKS_PER_READ) return;
      }
    })(),
  };
}

/** The whole .cast file as one string (small recordings, tests). */
export async function readRecordingText(db: Db, sessionId: string): Promise<string> {
  const parts: string[] = [];
  for await (const part of (await readRecording(db, sessionId)).lines) parts.push(part);
  return parts.join("");
}
