import type http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "../../platform/logging/logger.js";
import type { AgentPki } from "../../platform/pki/agent-pki.js";
import type { AgentSession } from "./agent-session.js";
import { createGatewayCredentials } from "./gateway-credentials.js";

/**
 * Keepalive on the server side. grpc-js servers only implement keepalive_time/timeout (they do
 * not police client ping rates: `grpc.http2.min_ping_interval_without_data_ms` and
 * `grpc.keepalive_permit_without_calls` are client-side options in grpc-js), so agents may ping
 * as often as they like. A dead TCP connection is noticed within ~30 s.
 */
const serverOptions: grpc.ServerOptions = {
  // Channelz (grpc-js's introspection service, which oCore does not serve) would keep a tracker,
  // a registry entry and counters per connection: ~1 KB for each of 10,000 agents.
  "grpc.enable_channelz": 0,
  "grpc.keepalive_time_ms": 20_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.max_receive_message_length": 4 * 1024 * 1024,
  // The Connect stream plus one Tunnel call per SSH gateway session on the host: at 8, the 8th
  // concurrent session waited for a stream and failed after 15 s ("the agent did not open the
  // tunnel"), far below OCORE_SSH_MAX_SESSIONS_PER_HOST (default 50, at most 1000). A Tunnel call
  // without a pending tunnel id is refused at once, so an agent cannot hold streams for nothing.
  "grpc.max_concurrent_streams": 1024 + 8,
};

/**
 * HTTP/2 receive windows of the agents' connections: per stream (each SSH tunnel is one) and per
 * connection. At HTTP/2's default of 64 KB an agent could send one tunnel frame (64 KB of sshd
 * output) per round trip, which capped a gateway session near 16 MB/s; with 1 MB a stream moves a
 * few frames per round trip, and what the server holds per stream stays bounded by the window
 * (a tunnel whose SSH side is paused stops granting window). grpc-js has no option for the server's
 * windows, so its HTTP/2 settings are extended here (decision 0210).
 */
export const STREAM_WINDOW_BYTES = 1024 * 1024;
const CONNECTION_WINDOW_BYTES = 8 * 1024 * 1024;

interface GrpcServerInternals {
  commonServerOptions?: { settings?: Record<string, unknown> };
  http2Servers?: Map<http2.Http2SecureServer, unknown>;
}

/** The per-stream window, for every connection accepted from now on. */
function widenStreamWindows(server: grpc.Server): void {
  const internals = server as unknown as GrpcServerInternals;
  if (!internals.commonServerOptions) return; // another grpc-js: keep its defaults
  internals.commonServerOptions.settings = {
    ...internals.commonServerOptions.settings,
    initialWindowSize: STREAM_WINDOW_BYTES,
  };
}

/** The connection window of every session of the bound HTTP/2 servers (after `bindAsync`). */
function widenConnectionWindows(server: grpc.Server): void {
  const servers = (server as unknown as GrpcServerInternals).http2Servers;
  for (const http2Server of servers?.keys() ?? []) {
    http2Server.on("session", (session: http2.ServerHttp2Session) => {
      try {
        session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
      } catch {
        // A session already closing: nothing to widen.
      }
    });
  }
}

export interface AgentGrpcServer {
  /** Where the routes are registered (agent-gateway/routes.ts) before `listen`. */
  readonly server: grpc.Server;
  /** Binds the mutual-TLS port; resolves with the bound port (0 picks a free one). */
  listen(host: string, port: number): Promise<number>;
  /** Ends `sessions` with `unavailable`, then shuts down (forcibly after 3 s). */
  close(sessions: Iterable<AgentSession>): Promise<void>;
}

/**
 * The agent gateway's grpc-js server: its options, the PKI's credentials (a client certificate
 * requested, not required: enrollment has none yet) and, while it listens, the periodic check
 * that renews the gateway certificate (or adopts another replica's renewal) 30 days before it
 * expires; new connections get the new one.
 */
export function createAgentGrpcServer(options: {
  readonly pki: AgentPki;
  readonly logger: Logger;
  /** How often the gateway's certificate is checked (0: never, tests). */
  readonly certificateCheckEveryMs: number;
  /** A connection's TLS handshake must finish within this (OCORE_CONNECT_TIMEOUT_SECONDS). */
  readonly handshakeTimeoutMs?: number;
}): AgentGrpcServer {
  const { pki, logger } = options;
  const server = new grpc.Server(serverOptions);
  widenStreamWindows(server);
  let certificateTimer: NodeJS.Timeout | undefined;
  return {
    server,
    async listen(host, port) {
      const bound = await new Promise<number>((resolve, reject) =>
        server.bindAsync(
          `${host.includes(":") ? `[${host}]` : host}:${port}`,
          createGatewayCredentials(pki, { handshakeTimeoutMs: options.handshakeTimeoutMs }),
          (error, p) => (error ? reject(error) : resolve(p)),
        ),
      );
      widenConnectionWindows(server);
      if (options.certificateCheckEveryMs > 0) {
        certificateTimer = setInterval(() => {
          pki
            .refreshGatewayCertificate()
            .catch((error: unknown) =>
              logger.warn({ err: error }, "could not check the agent gateway certificate; will retry"),
            );
        }, options.certificateCheckEveryMs);
      }
      return bound;
    },
    async close(sessions) {
      clearInterval(certificateTimer);
      for (const session of [...sessions]) {
        session.close({ code: "unavailable", message: "the oCore server is shutting down" });
      }
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 3_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
