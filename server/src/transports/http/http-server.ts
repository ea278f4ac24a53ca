import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { Duplex } from "node:stream";
import type { ConnectRouter, ContextValues, HandlerContext, Interceptor } from "@connectrpc/connect";
import type { Logger } from "../../platform/logging/logger.js";
import { createApiAdapter, type NodeHandler } from "./api-adapter.js";

/** A Node request listener for HTTP/1.1 and HTTP/2 alike. */
export type RequestHandler = NodeHandler;
type Response = Parameters<RequestHandler>[1];

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly routes: (router: ConnectRouter) => void;
  readonly interceptors?: Interceptor[];
  /** The largest request message the API reads (routes may allow more for one RPC). */
  readonly readMaxBytes: number;
  /** Runs before a request body is read: refuse unauthenticated callers here. */
  readonly requestGate?: (context: HandlerContext) => void | Promise<void>;
  /** Resolves when the server can serve traffic; rejects with the reason when it cannot. */
  readonly readiness: () => Promise<void>;
  /** Plain HTTP endpoints next to the API, by path prefix (file downloads). */
  readonly prefixRoutes?: ReadonlyArray<readonly [prefix: string, handler: RequestHandler]>;
  /** The join endpoints (`/join/…`, issue 22): answers true when it took the request. */
  readonly join?: (request: Parameters<RequestHandler>[0], response: Response) => boolean;
  /** Everything that is neither the API nor a health endpoint (the console). */
  readonly fallback?: RequestHandler;
  /** What the API handlers learn about each request from the transport (source address…). */
  readonly contextValues?: (request: Parameters<RequestHandler>[0]) => ContextValues;
  /** GET /metrics (Prometheus); undefined: the endpoint is off and answers 404. */
  readonly metrics?: RequestHandler;
  /** A new connection's first bytes must arrive within this (OCORE_CONNECT_TIMEOUT_SECONDS; default 10 s). */
  readonly connectTimeoutMs?: number;
  /** HTTP/1.1 upgrade requests (the console terminal's WebSocket): true when it took the request. */
  readonly upgrade?: (request: http.IncomingMessage, socket: Duplex, head: Buffer) => boolean;
}

export interface HttpServer {
  listen(host: string, port: number): Promise<net.AddressInfo>;
  close(): Promise<void>;
}

/** An HTTP/1.1 socket with nothing either way for this long is closed. */
const SOCKET_IDLE_TIMEOUT_MS = 300_000;

/** HTTP/2's connection preface starts with a method HTTP/1.x does not have. */
const HTTP2_PREFACE_START = Buffer.from("PRI ");

/**
 * One port for everything a client reaches: the Connect API in the Connect, gRPC-Web and gRPC
 * protocols, `/healthz`, `/readyz`, `/metrics` (when on) and the console. gRPC needs HTTP/2 while browsers speak
 * HTTP/1.1 on cleartext, so each connection's first bytes pick the HTTP version.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const api = createApiAdapter({
    logger: options.logger,
    routes: options.routes,
    interceptors: options.interceptors ?? [],
    readMaxBytes: options.readMaxBytes,
    requestGate: options.requestGate,
    fallback: options.fallback ?? notFound,
    contextValues: options.contextValues,
  });

  const handle: RequestHandler = (request, response) => {
    const path = (request.url ?? "/").split("?", 1)[0];
    if (path === "/healthz") return void sendText(response, 200, "ok\n");
    if (path === "/metrics") {
      if (options.metrics) return void options.metrics(request, response);
      return void sendText(response, 404, "not found: /metrics is off (set OCORE_METRICS_TOKEN)\n");
    }
    if (path === "/readyz") {
      options.readiness().then(
        () => sendText(response, 200, "ready\n"),
        (error: unknown) =>
          sendText(response, 503, `not ready: ${error instanceof Error ? error.message : String(error)}\n`),
      );
      return;
    }
    if (options.join?.(request, response)) return;
    const route = options.prefixRoutes?.find(([prefix]) => path?.startsWith(prefix));
    if (route) return void route[1](request, response);
    api(request, response);
  };

  // Node's own headersTimeout/requestTimeout only run for a server it saw listening, and
  // `http1` never listens (the front hands it sockets); telling it that it listens made an
  // orphaned process hang at its stop. So the first request head has its own deadline here, from
  // the hand-off; a socket idle for SOCKET_IDLE_TIMEOUT_MS (a trickling body) is closed too.
  const headersTimeoutMs = 2 * (options.connectTimeoutMs ?? 10_000);
  const headDeadlines = new WeakMap<Duplex, NodeJS.Timeout>();
  const awaitHead = (socket: net.Socket) => {
    clearTimeout(headDeadlines.get(socket));
    if (!socket.destroyed)
      headDeadlines.set(
        socket,
        setTimeout(() => socket.destroy(), headersTimeoutMs),
      );
  };
  const headArrived = (socket: Duplex) => clearTimeout(headDeadlines.get(socket));
  const http1 = http.createServer(handle);
  http1.timeout = Math.max(SOCKET_IDLE_TIMEOUT_MS, headersTimeoutMs);
  // Only the first head is timed: a 'finish' listener on every response (to time the next one
  // on a kept-alive connection) broke the connection's next request after a gRPC-Web call. Later
  // heads are bounded by Node's keep-alive timeout (5 s idle between requests) and the idle timeout.
  http1.on("request", (request: http.IncomingMessage) => headArrived(request.socket));
  http1.on("upgrade", (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    headArrived(socket);
    if (options.upgrade?.(request, socket, head)) return;
    socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
  });
  const h2c = http2.createServer(handle);
  // A client that sends the HTTP/2 preface but never its SETTINGS frame holds a session that
  // nghttp2 would keep for ever: it has as long as an HTTP/1.1 request head has.
  h2c.on("session", (session) => {
    const silent = setTimeout(() => session.destroy(), 2 * (options.connectTimeoutMs ?? 10_000));
    session.once("remoteSettings", () => clearTimeout(silent));
    session.once("close", () => clearTimeout(silent));
  });
  const sockets = new Set<net.Socket>();
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // A client that connects and sends nothing (slowloris) is dropped.
    const silent = setTimeout(() => socket.destroy(), connectTimeoutMs);
    socket.once("close", () => clearTimeout(silent));
    socket.once("data", (chunk: Buffer) => {
      clearTimeout(silent);
      socket.pause();
      if (chunk.subarray(0, HTTP2_PREFACE_START.length).equals(HTTP2_PREFACE_START)) {
        // nghttp2 reads a net.Socket's native handle directly and would never see the bytes we
        // already took; a JS stream in front of the socket hands them over.
        h2c.emit("connection", replayingStream(socket, chunk));
      } else {
        socket.unshift(chunk);
        awaitHead(socket);
        socket.once("close", () => headArrived(socket));
        http1.emit("connection", socket);
      }
      socket.resume();
    });
    socket.on("error", (error) => options.logger.debug({ err: error }, "client connection error"));
  });

  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        front.once("error", reject);
        front.listen({ host, port }, () => {
          front.off("error", reject);
          resolve(front.address() as net.AddressInfo);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!front.listening) return resolve();
        front.close(() => resolve());
        http1.closeIdleConnections();

        // In-flight requests get a moment to finish; then the remaining connections go.
        setTimeout(() => {
          for (const socket of sockets) socket.destroy();
        }, 2_000).unref();
      }),
  };
}

/** A duplex stream that yields `first`, then everything the socket reads, and writes to the socket. */
function replayingStream(socket: net.Socket, first: Buffer): Duplex {
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk, encoding, callback) => void socket.write(chunk, encoding, callback),
    final: (callback) => void socket.end(callback),
    destroy: (error, callback) => {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  stream.push(first);
  socket.on("data", (chunk) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.once("end", () => stream.push(null));
  socket.once("close", () => stream.destroy());
  socket.on("error", (error) => stream.destroy(error));
  Object.assign(stream, { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
  return stream;
}

function sendText(response: Response, status: number, body: string): void {
  response.statusCode = status;
  response.setHeader("content-type", "text/plain; charset=utf-8");
  response.setHeader("cache-control", "no-store");
  response.end(body);
}

const notFound: RequestHandler = (_request, response) => sendText(response, 404, "not found\n");
