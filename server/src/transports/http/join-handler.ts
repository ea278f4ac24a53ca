import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { findJoinBySecret, type JoinView, refusalOf } from "../../domain/joining/find-join-command.js";
import { joinScriptFor } from "../../domain/joining/join-command-text.js";
import type { JoinDeps } from "../../domain/joining/join-deps.js";
import {
  finishJoin,
  parseJoinReport,
  recordJoinReport,
  submitJoinFacts,
} from "../../domain/joining/join-progress.js";
import { joinFiles } from "../../domain/joining/join-script.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

const JOIN_PATH =
  /^\/join\/([A-Za-z0-9_-]{1,64})(?:\/(report|facts|installed|files\/([A-Za-z0-9._-]{1,64})))?$/;
const MAX_BODY_BYTES = 64 * 1024;

const statusOf: Partial<Record<AppError["code"], number>> = {
  invalid_argument: 400,
  not_found: 404,
  failed_precondition: 409,
  unavailable: 504,
};

/**
 * The join endpoints a host reaches (issue 22), outside the API: no session, the URL's secret is
 * the credential, and it never reaches a log. GET /join/<secret> serves the join script; its
 * files, reports and facts live under the same path. A command that no longer works is answered
 * with a script that prints why (so `curl … | sudo sh` shows it) and exits 1.
 */
export function createJoinHandler(deps: JoinDeps, logger: Logger) {
  return function handleJoin(request: Request, response: Response): boolean {
    const path = (request.url ?? "/").split("?", 1)[0] ?? "/";
    const match = JOIN_PATH.exec(path);
    if (!path.startsWith("/join/")) return false;
    const method = request.method ?? "GET";
    void (async () => {
      if (!match?.[1]) return sendText(response, 404, "not found\n");
      const [, secret, action, fileName] = match;
      const join = await findJoinBySecret(deps.db, { secret, caPin: deps.ca.pin, now: deps.now() });
      if (method === "GET" && !action) return serveScript(response, join, secret);
      if (method === "GET" && fileName) return serveFile(response, join, fileName);
      if (method !== "POST" || !action || fileName) return sendText(response, 405, "method not allowed\n");
      if (!join) return sendText(response, 404, `${refusalOf(undefined)}\n`);
      const body = await readBody(request);
      if (action === "report") {
        await recordJoinReport(deps, join, parseJoinReport(body));
        return sendText(response, 200, "ok\n");
      }
      if (action === "facts") return sendText(response, 200, await submitJoinFacts(deps, join, body));
      const closed = new AbortController();
      response.once("close", () => closed.abort());
      return sendText(response, 200, await finishJoin(deps, join, body, closed.signal));
    })().catch((error: unknown) => {
      if (error instanceof AppError)
        return sendText(response, statusOf[error.code] ?? 400, `${error.message}\n`);
      // The path holds the secret: log the error, never the URL.
      logger.error({ err: error }, "a join request failed");
      sendText(response, 500, "the server failed on this request (see its log)\n");
    });
    return true;
  };

  async function serveScript(response: Response, join: JoinView | undefined, secret: string) {
    const refusal = refusalOf(join);
    if (refusal || !join) {
      // A quoted here-document prints the text as it is (no expansion); it is one line.
      const line = (refusal ?? "").replace(/[\r\n]+/g, " ");
      const script = `#!/bin/sh\ncat >&2 <<'OCORE_REFUSAL'\nocore-join: ${line}\nOCORE_REFUSAL\nexit 1\n`;
      return sendText(response, join ? 410 : 404, script, "text/x-shellscript");
    }
    sendText(response, 200, await joinScriptFor(deps, join, secret), "text/x-shellscript");
  }

  async function serveFile(response: Response, join: JoinView | undefined, name: string) {
    const refusal = refusalOf(join);
    if (refusal) return sendText(response, join ? 410 : 404, `${refusal}\n`);
    const file = (await joinFiles(deps.deployDir, await deps.agentRelease())).find((f) => f.name === name);
    if (!file) return sendText(response, 404, `no file ${name}\n`);
    response.statusCode = 200;
    response.setHeader("content-type", "application/octet-stream");
    response.setHeader("content-length", String(file.size));
    response.setHeader("cache-control", "no-store");
    const stream = createReadStream(file.path);
    stream.on("error", () => response.destroy());
    stream.pipe(response as NodeJS.WritableStream);
  }
}

async function readBody(request: Request): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw AppError.invalid("body", `must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function sendText(response: Response, status: number, body: string, type = "text/plain"): void {
  if (response.headersSent) return void response.end();
  response.statusCode = status;
  response.setHeader("content-type", `${type}; charset=utf-8`);
  response.setHeader("cache-control", "no-store");
  response.end(body);
}
