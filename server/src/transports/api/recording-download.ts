import type { AuditContext } from "../../domain/audit/audit-context.js";
import type { DenialAggregator } from "../../domain/audit/denial-aggregator.js";
import { holds, type Principal, scopeOf } from "../../domain/auth/principal.js";
import type { Authenticator } from "../../domain/authentication/authenticate.js";
import { CAST_CONTENT_TYPE } from "../../domain/ssh-sessions/asciicast.js";
import { getSession } from "../../domain/ssh-sessions/get-session.js";
import { readRecording } from "../../domain/ssh-sessions/read-recording.js";
import type { Db } from "../../platform/db/database.js";
import { AppError, type AppErrorCode } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { NodeHandler } from "../http/api-adapter.js";
import { credentialsOf, unauthenticated } from "./auth-gate.js";

/** The download path of a session's recording: GET /api/ssh-sessions/<id>.cast */
export const RECORDING_PATH_PREFIX = "/api/ssh-sessions/";
const PATH = /^\/api\/ssh-sessions\/([^/]+)\.cast$/;

const statusOf: Record<AppErrorCode, number> = {
  invalid_argument: 400,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 412,
  permission_denied: 403,
  unauthenticated: 401,
  resource_exhausted: 429,
  unavailable: 503,
  internal: 500,
};

/**
 * Serves a recording as a .cast file, for `curl -H "Authorization: Bearer …"`, `asciinema play`
 * after a download, and the console's download button. Same authentication as the API (bearer
 * token, or the session cookie with its CSRF header) and the same rule as
 * SshSessionService/GetRecording: sessions.read on the session's server; refusals are audited
 * like the API's. The file is streamed a few chunks at a time, at the client's pace.
 */
export function createRecordingDownload(deps: {
  readonly db: Db;
  readonly authenticator: Authenticator;
  readonly denials: DenialAggregator;
  readonly logger: Logger;
}): NodeHandler {
  const authorize = async (request: Parameters<NodeHandler>[0]): Promise<Principal> => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === "string" && !name.startsWith(":")) headers.set(name, value);
    }
    const meta = {
      sourceIp: request.socket?.remoteAddress ?? "",
      userAgent: headers.get("user-agent") ?? "",
    };
    const principal = await deps.authenticator.authenticate(
      credentialsOf(headers, { ...meta, secureTransport: false }),
    );
    if (!principal) throw unauthenticated();
    if (principal.mustChangePassword) {
      throw new AppError(
        "failed_precondition",
        "change your one-time password first (AuthService/ChangePassword)",
      );
    }
    if (!holds(principal, "sessions.read")) {
      const context: AuditContext = {
        actor: { type: principal.kind, id: principal.id, name: principal.name },
        ...meta,
      };
      await deps.denials.record({
        key: `${principal.kind}:${principal.id}|recording-download|`,
        context,
        event: {
          action: "access.denied",
          targetType: "",
          targetId: "",
          detail: `GET ${RECORDING_PATH_PREFIX}…: this needs the sessions.read permission`,
        },
      });
      throw new AppError("permission_denied", "this needs the sessions.read permission");
    }
    return principal;
  };

  return (request, response) => {
    const fail = (error: unknown) => {
      const known = error instanceof AppError ? error : undefined;
      if (!known) deps.logger.error({ err: error, url: request.url }, "recording download failed");
      if (response.headersSent) {
        response.destroy();
        return;
      }
      response.statusCode = known ? statusOf[known.code] : 500;
      response.setHeader("content-type", "text/plain; charset=utf-8");
      response.setHeader("cache-control", "no-store");
      if (known?.code === "unauthenticated") response.setHeader("www-authenticate", "Bearer");
      response.end(`${known ? known.message : "internal error; the server log has the details"}\n`);
    };
    const run = async () => {
      if (request.method !== "GET" && request.method !== "HEAD") {
        response.setHeader("allow", "GET, HEAD");
        throw new AppError("invalid_argument", "method: only GET and HEAD serve a recording");
      }
      const match = PATH.exec((request.url ?? "").split("?", 1)[0] ?? "");
      if (!match) throw AppError.notFound(`${request.url ?? ""}`);
      const id = decodeURIComponent(match[1] ?? "");
      const principal = await authorize(request);
      await getSession(deps.db, { id, scope: scopeOf(principal, "sessions.read") });
      const recording = await readRecording(deps.db, id);
      response.statusCode = 200;
      response.setHeader("content-type", `${CAST_CONTENT_TYPE}; charset=utf-8`);
      response.setHeader("content-disposition", `attachment; filename="${recording.fileName}"`);
      response.setHeader("cache-control", "no-store");
      response.setHeader("x-content-type-options", "nosniff");
      if (request.method === "HEAD") return void response.end();
      let closed = false;
      response.once("close", () => {
        closed = true;
      });
      for await (const piece of recording.lines) {
        if (closed) return;
        if (!(response as NodeJS.WritableStream).write(piece)) await drainedOrClosed(response);
      }
      response.end();
    };
    run().catch(fail);
  };
}

/** Resolves when the response can take more, or is gone (a client that stopped reading and left). */
function drainedOrClosed(response: Parameters<NodeHandler>[1]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off("drain", done);
      response.off("close", done);
      resolve();
    };
    response.on("drain", done);
    response.on("close", done);
  });
}
