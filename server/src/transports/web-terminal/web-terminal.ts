import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type ssh2 from "ssh2";
import type WebSocket from "ws";
import { WebSocketServer } from "ws";
import type { AuditContext } from "../../domain/audit/audit-context.js";
import type { DenialAggregator } from "../../domain/audit/denial-aggregator.js";
import type { Principal } from "../../domain/auth/principal.js";
import type { Authenticator } from "../../domain/authentication/authenticate.js";
import { sshLoginChoices } from "../../domain/ssh-gateway/ssh-access.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import { ACCESS_COOKIE, CSRF_COOKIE, parseCookies } from "../api/cookies.js";
import { createGatewayConnection } from "../ssh-gateway/connection-lifecycle.js";
import type { GatewayDeps } from "../ssh-gateway/gateway-deps.js";
import { promised } from "../ssh-gateway/session-channel.js";
import { type StartedSession, startSession } from "../ssh-gateway/session-start.js";
import { SocketChannel, sendMessage } from "./socket-channel.js";
import {
  type ClientMessage,
  isSameOrigin,
  MAX_CLIENT_FRAME_BYTES,
  parseClientMessage,
  TERMINAL_PATH,
} from "./terminal-protocol.js";

export interface WebTerminalDeps {
  /** The SSH gateway's dependencies: the same limits counter, tunnels, recordings and audit. */
  readonly gateway: GatewayDeps;
  readonly authenticator: Authenticator;
  readonly denials: DenialAggregator;
  readonly logger: Logger;
  /** OCORE_PUBLIC_URL: its origin is accepted besides the Host the request was sent to. */
  readonly publicUrl?: string;
}

export interface WebTerminal {
  /** Takes an HTTP upgrade request on TERMINAL_PATH; false for any other path. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Closes every open terminal. */
  close(): void;
}

const REASONS: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden" };

/**
 * The console's terminal: a WebSocket on the HTTP port (decision 0152), authenticated by the
 * console's session cookie with its CSRF token in the URL and an Origin check, that runs one
 * shell through the SSH gateway's own path (createGatewayConnection + startSession): same RBAC
 * (`servers.ssh`, allowed logins), limits, audit, identity re-check and recording.
 */
export function createWebTerminal(deps: WebTerminalDeps): WebTerminal {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_FRAME_BYTES,
    perMessageDeflate: false,
  });

  const refuse = (socket: Duplex, status: number, message: string) => {
    const body = `${message}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\ncache-control: no-store\r\n\r\n${body}`,
    );
  };

  const authorize = async (request: IncomingMessage): Promise<Principal> => {
    const url = new URL(request.url ?? "/", "http://terminal");
    const cookies = parseCookies(request.headers.cookie ?? null);
    const meta = {
      sourceIp: request.socket.remoteAddress ?? "",
      userAgent: String(request.headers["user-agent"] ?? "").slice(0, 200),
    };
    const deny = async (detail: string, principal?: Principal) => {
      const context: AuditContext = {
        actor: principal
          ? { type: principal.kind, id: principal.id, name: principal.name }
          : { type: "system", id: "", name: "anonymous browser" },
        ...meta,
      };
      await deps.denials.record({
        key: `${principal ? `${principal.kind}:${principal.id}` : meta.sourceIp}|web-terminal|${detail}`,
        context,
        event: {
          action: "access.denied",
          targetType: "",
          targetId: "",
          detail: `WebSocket ${TERMINAL_PATH}: ${detail}`,
        },
      });
    };
    if (!isSameOrigin(request.headers.origin, request.headers.host, deps.publicUrl)) {
      await deny("the Origin is not this console's");
      throw new AppError(
        "permission_denied",
        "the terminal only accepts connections from this console's own pages",
      );
    }
    if (!cookies[ACCESS_COOKIE]) throw new AppError("unauthenticated", "sign in to the console first");
    let principal: Principal | undefined;
    try {
      principal = await deps.authenticator.authenticate({
        accessCookie: cookies[ACCESS_COOKIE],
        csrfCookie: cookies[CSRF_COOKIE],
        csrfHeader: url.searchParams.get("csrf") ?? undefined,
        ...meta,
      });
    } catch (error) {
      if (error instanceof AppError && error.code === "permission_denied") await deny(error.message);
      throw error;
    }
    if (!principal) throw new AppError("unauthenticated", "sign in to the console first");
    if (principal.kind !== "user") {
      throw new AppError("permission_denied", "the console terminal is for signed-in users");
    }
    if (principal.mustChangePassword) {
      await deny("the one-time password is not changed yet", principal);
      throw new AppError("failed_precondition", "change your one-time password first");
    }
    return principal;
  };

  const statusOf = (error: unknown) => {
    if (!(error instanceof AppError)) return 500;
    if (error.code === "unauthenticated") return 401;
    if (error.code === "invalid_argument") return 400;
    return 403;
  };

  return {
    handleUpgrade(request, socket, head) {
      const path = (request.url ?? "/").split("?", 1)[0];
      if (path !== TERMINAL_PATH) return false;
      socket.on("error", () => {});
      authorize(request).then(
        (principal) => wss.handleUpgrade(request, socket, head, (ws) => serve(deps, ws, request, principal)),
        (error: unknown) => {
          if (!(error instanceof AppError))
            deps.logger.error({ err: error }, "terminal authentication failed");
          refuse(socket, statusOf(error), error instanceof AppError ? error.message : "internal error");
        },
      );
      return true;
    },
    close() {
      for (const client of wss.clients) client.close(1001, "the server is stopping");
      wss.close();
    },
  };
}

/** One terminal: `start` (maybe after a login choice), then input and resizes until either side ends. */
function serve(deps: WebTerminalDeps, ws: WebSocket, request: IncomingMessage, principal: Principal): void {
  const channel = new SocketChannel(ws);
  const connection = createGatewayConnection(deps.gateway, {
    clientAddress: request.socket.remoteAddress ?? "",
    userAgent: `console ${String(request.headers["user-agent"] ?? "")}`.slice(0, 200),
    end: () => channel.end(),
  });
  const { state } = connection;
  connection.setIdentity({
    principal,
    method: "console",
    userId: principal.id,
    recordAs: principal.id,
    sessionId: principal.sessionId,
  });
  connection.begin();
  let phase: "waiting" | "starting" | "started" = "waiting";
  let started: StartedSession | undefined;

  const fail = (message: string) => {
    sendMessage(ws, { type: "notice", message });
    ws.close(1008, message.slice(0, 120));
  };

  const start = async (message: Extract<ClientMessage, { type: "start" }>) => {
    const login = message.login;
    if (!login) {
      // Several allowed logins: the user picks one (an unknown server is refused by startSession).
      const choices = await sshLoginChoices(deps.gateway.db, principal, message.server).catch(
        () => undefined,
      );
      if (choices && choices.logins.length > 1) {
        phase = "waiting";
        return sendMessage(ws, { type: "logins", logins: choices.logins });
      }
    }
    state.target = { user: principal.name, server: message.server, login };
    const size = { cols: message.cols, rows: message.rows };
    started = await startSession(state, channel, {
      kind: "shell",
      size: () => size,
      open: (upstream) =>
        promised<ssh2.ClientChannel>((done) =>
          upstream.client.shell(
            { term: "xterm-256color", cols: size.cols, rows: size.rows, width: 0, height: 0, modes: {} },
            done,
          ),
        ),
    });
    if (!started) return;
    phase = "started";
    const upstream = await state.upstream().catch(() => undefined);
    if (upstream) sendMessage(ws, { type: "ready", server: upstream.server.name, login: upstream.login });
  };

  ws.on("message", (data: Buffer, isBinary: boolean) => {
    const parsed = parseClientMessage(data, isBinary);
    if ("error" in parsed) return fail(parsed.error);
    const message = parsed.message;
    if (message.type === "start") {
      if (phase !== "waiting") return fail("bad message: the session is already started");
      phase = "starting";
      start(message).catch((error: unknown) => {
        deps.logger.error({ err: error }, "the console terminal failed");
        fail("internal error; the server log has the details");
      });
      return;
    }
    if (phase !== "started") return fail(`bad message: "${message.type}" before the session started`);
    if (message.type === "input") channel.input(message.data);
    else started?.resize(message.cols, message.rows);
  });
  ws.on("close", () => {
    connection.close();
    channel.destroy();
  });
  ws.on("error", (error) => deps.logger.debug({ err: error }, "terminal socket error"));
}
