import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { SshSessionService } from "@ocore/proto/gen/ocore/api/v1/ssh_session_service_pb.js";
import { scopeOf } from "../../domain/auth/principal.js";
import { endSession } from "../../domain/ssh-sessions/end-session.js";
import { getSession } from "../../domain/ssh-sessions/get-session.js";
import { listSessions } from "../../domain/ssh-sessions/list-sessions.js";
import type { LiveSessions } from "../../domain/ssh-sessions/live-sessions.js";
import { readRecording } from "../../domain/ssh-sessions/read-recording.js";
import { searchRecordings } from "../../domain/ssh-sessions/search-recordings.js";
import type { SessionView } from "../../domain/ssh-sessions/session-view.js";
import type { Db } from "../../platform/db/database.js";
import { auditContextOf, principalOf } from "./request-context.js";
import { optionalRequestDate } from "./request-values.js";

export function sessionMessage(session: SessionView) {
  return {
    id: session.id,
    userId: session.userId ?? "",
    username: session.username,
    serverId: session.serverId ?? "",
    serverName: session.serverName,
    login: session.login,
    clientAddress: session.clientAddress,
    kind: session.kind,
    command: session.command ?? "",
    cols: session.cols,
    rows: session.rows,
    startedAt: timestampFromDate(session.startedAt),
    endedAt: session.endedAt ? timestampFromDate(session.endedAt) : undefined,
    durationMs: BigInt(Math.max(0, session.elapsedMs)),
    bytesIn: BigInt(session.bytesIn),
    bytesOut: BigInt(session.bytesOut),
    exitStatus: session.exitStatus ?? undefined,
    endReason: session.endReason ?? "",
    live: session.live,
    recordsInput: session.recordsInput,
    recordingBytes: BigInt(session.recordingBytes),
    recordingTruncated: session.recordingTruncated,
  };
}

/** SshSessionService: thin translation between the contract and the session use cases. */
export function createSshSessionService(deps: {
  readonly db: Db;
  readonly liveSessions: LiveSessions;
}): ServiceImpl<typeof SshSessionService> {
  const { db } = deps;
  return {
    async listSessions(request, context) {
      const page = await listSessions(db, {
        scope: scopeOf(principalOf(context), "sessions.read"),
        userId: request.userId || undefined,
        serverId: request.serverId || undefined,
        startedAfter: optionalRequestDate(request.startedAfter, "startedAfter"),
        startedBefore: optionalRequestDate(request.startedBefore, "startedBefore"),
        liveOnly: request.liveOnly,
        pageSize: request.pageSize,
        pageToken: request.pageToken || undefined,
      });
      return { sessions: page.sessions.map(sessionMessage), nextPageToken: page.nextPageToken };
    },
    async getSession(request, context) {
      const scope = scopeOf(principalOf(context), "sessions.read");
      return { session: sessionMessage(await getSession(db, { id: request.id, scope })) };
    },
    async *getRecording(request, context) {
      // The scope check first: a recording is read only once its session is visible.
      await getSession(db, { id: request.id, scope: scopeOf(principalOf(context), "sessions.read") });
      const recording = await readRecording(db, request.id);
      const encoder = new TextEncoder();
      let first = true;
      for await (const piece of recording.lines) {
        yield { data: encoder.encode(piece), fileName: first ? recording.fileName : "" };
        first = false;
      }
    },
    async searchRecordings(request, context) {
      const hits = await searchRecordings(db, {
        scope: scopeOf(principalOf(context), "sessions.read"),
        query: request.query,
        userId: request.userId || undefined,
        serverId: request.serverId || undefined,
        startedAfter: optionalRequestDate(request.startedAfter, "startedAfter"),
        startedBefore: optionalRequestDate(request.startedBefore, "startedBefore"),
        limit: request.limit,
      });
      return { hits: hits.map((hit) => ({ session: sessionMessage(hit.session), snippet: hit.snippet })) };
    },
    async endSession(request, context) {
      return endSession(db, deps.liveSessions, auditContextOf(context), {
        id: request.id,
        scope: scopeOf(principalOf(context), "sessions.manage"),
      });
    },
  };
}
