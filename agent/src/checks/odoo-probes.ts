import { randomBytes } from "node:crypto";
import { request } from "node:http";

/** What one HTTP probe of an instance's port found (never throws: a failure is an answer too). */
export type ProbeAnswer =
  | { readonly kind: "http"; readonly status: number; readonly body: string; readonly ms: number }
  | { readonly kind: "upgraded"; readonly ms: number }
  | { readonly kind: "failed"; readonly error: string; readonly ms: number };

/** A probe's body is read up to this many bytes (the health answer is a few dozen). */
const MAX_BODY = 4096;

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly timeoutMs: number;
}

/**
 * `GET path` on host:port, bounded by `timeoutMs` (connect and answer together); the answer's
 * status and the start of its body. With `upgrade`, a WebSocket handshake is asked for
 * (RFC 6455: Upgrade, Sec-WebSocket-Key/Version) and `upgraded` means the server switched
 * protocols (101); the socket is closed at once.
 */
export function probeHttp(
  target: ProbeTarget,
  options: { readonly upgrade?: boolean } = {},
): Promise<ProbeAnswer> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: ProbeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const headers: Record<string, string> = {
      accept: "application/json, text/html",
      "user-agent": "ocore-agent",
    };
    if (options.upgrade) {
      headers.connection = "Upgrade";
      headers.upgrade = "websocket";
      headers["sec-websocket-version"] = "13";
      headers["sec-websocket-key"] = randomBytes(16).toString("base64");
    }
    const call = request({ host: target.host, port: target.port, path: target.path, method: "GET", headers });
    const timer = setTimeout(() => {
      call.destroy();
      done({ kind: "failed", error: `no answer within ${target.timeoutMs} ms`, ms: ms() });
    }, target.timeoutMs);
    call.on("upgrade", (_response, socket) => {
      socket.destroy();
      done({ kind: "upgraded", ms: ms() });
    });
    call.on("response", (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        if (size < MAX_BODY) chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_BODY) response.destroy();
      });
      const finish = () =>
        done({
          kind: "http",
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8").slice(0, MAX_BODY),
          ms: ms(),
        });
      response.on("end", finish);
      response.on("close", finish);
      response.on("error", finish);
    });
    call.on("error", (error: NodeJS.ErrnoException) =>
      done({ kind: "failed", error: describeError(error), ms: ms() }),
    );
    call.end();
  });
}

function describeError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "ECONNREFUSED":
      return "connection refused (nothing listens)";
    case "ECONNRESET":
    case "EPIPE":
      return "the connection was closed without an answer (nothing listens inside the container?)";
    default:
      return error.message || String(error.code ?? error);
  }
}
