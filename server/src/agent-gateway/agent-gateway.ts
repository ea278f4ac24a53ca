import * as grpc from "@grpc/grpc-js";
import { AgentService } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { BackupTransferService } from "@ocore/proto/gen/ocore/agent/v1/backup_transfer_service_pb.js";
import { EnrollmentService } from "@ocore/proto/gen/ocore/agent/v1/enrollment_service_pb.js";
import { AgentReleaseService } from "@ocore/proto/gen/ocore/agent/v1/release_service_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import { renewAgentCertificate } from "../agent-identity/renew-agent-certificate.js";
import { findRevokedSince } from "../agent-identity/revoke-server-certificates.js";
import { defaultAgentExecutable } from "../agent-release/agent-release.js";
import { createDownloadAgentHandler } from "../agent-release/download-handler.js";
import type { BackupStore } from "../backups/backup-store.js";
import { createBackupTransferHandlers } from "../backups/backup-transfer-handler.js";
import type { CommandEventSink } from "../commands/command-transport.js";
import type { Db } from "../db/database.js";
import {
  recordObservedInstanceStates,
  validateInstanceStates,
} from "../instances/observed-instance-states.js";
import type { Logger } from "../logging/logger.js";
import { newestUsage, type UsageSummary } from "../metrics/metric-sample.js";
import type { MetricWriter } from "../metrics/metric-writer.js";
import type { AgentPki } from "../pki/agent-pki.js";
import {
  markAgentConnected,
  markAgentDisconnected,
  markSilentServersOffline,
  SILENT_AFTER_MS,
  writeLastSeen,
} from "../presence/server-presence.js";
import type { AgentSession } from "./agent-session.js";
import { createConnectHandler } from "./connect-handler.js";
import { createEnrollHandler } from "./enroll-handler.js";
import { createGatewayCredentials } from "./gateway-credentials.js";
import { SessionRegistry } from "./session-registry.js";

export interface AgentGatewayOptions {
  readonly db: Db;
  readonly pki: AgentPki;
  readonly writer: MetricWriter;
  readonly logger: Logger;
  readonly version: string;
  readonly metricsIntervalSeconds: number;
  readonly certificateDays: number;
  /** The agent executable AgentReleaseService hands out (default: the repository's build). */
  readonly agentExecutable?: string;
  readonly now?: () => Date;
  readonly timing?: Partial<GatewayTiming>;
  /** Where command events go and who delivers commands when a stream goes live (the command runner). */
  readonly commands?: CommandEventSink;
  /** The live streams; pass one to share it with the command runner (a new one otherwise). */
  readonly registry?: SessionRegistry;
  /** Where instance backups are stored; serves BackupTransferService when given. */
  readonly backupStore?: BackupStore;
}

export interface GatewayTiming {
  /** The server pings each live agent this often (the agent's Pong proves it is responsive). */
  readonly pingEveryMs: number;
  /** A live stream without any message for this long is closed and its server shown offline. */
  readonly silentAfterMs: number;
  /** How often silence, last-seen times, revocations and stale servers are checked (0: never, tests). */
  readonly sweepEveryMs: number;
  readonly helloTimeoutMs: number;
  /**
   * How often the gateway's TLS certificate is checked, and renewed (or another replica's
   * renewal adopted) when it expires within 30 days; new connections get the new one.
   */
  readonly certificateCheckEveryMs: number;
}

const defaultTiming: GatewayTiming = {
  pingEveryMs: 10_000,
  silentAfterMs: SILENT_AFTER_MS,
  sweepEveryMs: 5_000,
  helloTimeoutMs: 15_000,
  certificateCheckEveryMs: 3_600_000,
};

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
  "grpc.max_concurrent_streams": 8,
};

export interface AgentGateway {
  listen(host: string, port: number): Promise<number>;
  /** One round of the periodic checks (runs on a timer after listen; tests call it directly). */
  sweep(): Promise<void>;
  readonly registry: SessionRegistry;
  /** True when this process holds the server's live stream and its agent pushed its instance states on it. */
  pushesInstanceStates(serverId: string): boolean;
  close(): Promise<void>;
}

/** The agent gateway: EnrollmentService and AgentService on one mutual-TLS gRPC port. */
export function createAgentGateway(options: AgentGatewayOptions): AgentGateway {
  const { db, pki, logger } = options;
  const now = options.now ?? (() => new Date());
  const timing = { ...defaultTiming, ...options.timing };
  const registry = options.registry ?? new SessionRegistry();
  const { commands } = options;
  const sessions = new Set<AgentSession>();
  const server = new grpc.Server(serverOptions);
  let sweepTimer: NodeJS.Timeout | undefined;
  let certificateTimer: NodeJS.Timeout | undefined;
  let revocationsCheckedAt = now();
  /** The `lastReceivedAt` each live stream had when its last-seen time was last written. */
  const lastSeenWritten = new WeakMap<AgentSession, Date>();
  /** The newest usage per server received since the last sweep wrote it (one entry per live stream at most). */
  const pendingUsage = new Map<string, UsageSummary>();

  const offline = (session: AgentSession) =>
    markAgentDisconnected(db, session.serverId, { lastSeenAt: session.lastReceivedAt, now: now() }).catch(
      (error: unknown) =>
        logger.warn({ err: error, serverId: session.serverId }, "could not show a server offline"),
    );

  server.addService(createGrpcServiceDefinition(EnrollmentService), {
    enroll: createEnrollHandler({ db, pki, logger, certificateDays: options.certificateDays, now }),
  });
  server.addService(createGrpcServiceDefinition(AgentReleaseService), {
    downloadAgent: createDownloadAgentHandler({
      db,
      pki,
      logger,
      now,
      executablePath: options.agentExecutable ?? defaultAgentExecutable(),
    }),
  });
  if (options.backupStore) {
    server.addService(
      createGrpcServiceDefinition(BackupTransferService),
      createBackupTransferHandlers({ db, pki, logger, now, store: options.backupStore }),
    );
  }
  server.addService(createGrpcServiceDefinition(AgentService), {
    connect: createConnectHandler({
      db,
      pki,
      logger,
      now,
      sessions,
      helloTimeoutMs: timing.helloTimeoutMs,
      welcome: { serverVersion: options.version, metricsIntervalSeconds: options.metricsIntervalSeconds },
      hooks: {
        async onHello(session, facts) {
          await markAgentConnected(db, session.serverId, {
            agentVersion: facts.agentVersion,
            facts: facts.host,
            now: now(),
          });
          registry.register(session);
          logger.info({ serverId: session.serverId, agentVersion: facts.agentVersion }, "agent connected");
        },
        onLive(session) {
          if (registry.get(session.serverId) === session) commands?.onLive(session);
        },
        onCommandEvent: commands ? (session, event) => commands.onEvent(session, event) : undefined,
        async onInstanceStates(session, states) {
          const valid = validateInstanceStates(states);
          if (registry.get(session.serverId) !== session) return; // a replaced stream's news is stale
          await recordObservedInstanceStates(db, session.serverId, valid, now());
        },
        writeMetrics: async (serverId, samples) => {
          await options.writer.write(serverId, samples);
          // Only once stored: the next sweep copies the newest usage onto the server's row.
          const usage = newestUsage(samples);
          const known = pendingUsage.get(serverId);
          if (usage && (!known || usage.collectedAt >= known.collectedAt)) pendingUsage.set(serverId, usage);
        },
        renewCertificate: (identity, csrPem) =>
          renewAgentCertificate(db, pki, {
            identity,
            csrPem,
            certificateDays: options.certificateDays,
            now: now(),
          }),
        onClosed(session, end, wasLive) {
          if (!registry.unregister(session) || !wasLive) return;
          logger.info(
            { serverId: session.serverId, code: end.code, reason: end.message },
            "agent disconnected",
          );
          void offline(session);
        },
      },
    }),
  });

  const sweep = async () => {
    const at = now();
    const live = [...registry.sessions()];
    for (const session of live) {
      if (at.getTime() - session.lastReceivedAt.getTime() > timing.silentAfterMs) {
        session.close({
          code: "unavailable",
          message: `no message from the agent for ${timing.silentAfterMs / 1000} s`,
        });
      } else if (at.getTime() - session.lastPingAt.getTime() >= timing.pingEveryMs) {
        session.sendPing();
      }
    }
    // Only streams that received something since the last write: a quiet one costs nothing, and
    // a removed server is still noticed at its agent's next message.
    const heard = live.filter(
      (session) =>
        session.state === "live" &&
        (lastSeenWritten.get(session) !== session.lastReceivedAt || pendingUsage.has(session.serverId)),
    );
    const existing = await writeLastSeen(
      db,
      heard.map((session) => {
        const usage = pendingUsage.get(session.serverId);
        pendingUsage.delete(session.serverId);
        return { serverId: session.serverId, at: session.lastReceivedAt, usage };
      }),
    );
    // Usage of streams that closed before the sweep is dropped with them.
    for (const serverId of pendingUsage.keys()) if (!registry.get(serverId)) pendingUsage.delete(serverId);
    for (const session of heard) {
      lastSeenWritten.set(session, session.lastReceivedAt);
      if (!existing.has(session.serverId)) {
        session.close({ code: "permission_denied", message: "this server was removed from oCore" });
      }
    }
    const revoked = new Set(await findRevokedSince(db, new Date(revocationsCheckedAt.getTime() - 60_000)));
    revocationsCheckedAt = at;
    for (const session of registry.sessions()) {
      if (revoked.has(session.identity.serial)) {
        session.close({ code: "permission_denied", message: "certificate revoked: re-enroll the agent" });
      }
    }
    await markSilentServersOffline(db, { now: at, silentAfterMs: timing.silentAfterMs });
  };

  return {
    registry,
    sweep,
    pushesInstanceStates: (serverId) => registry.get(serverId)?.instanceStatesSynced === true,
    async listen(host, port) {
      const bound = await new Promise<number>((resolve, reject) =>
        server.bindAsync(
          `${host.includes(":") ? `[${host}]` : host}:${port}`,
          createGatewayCredentials(pki),
          (error, p) => (error ? reject(error) : resolve(p)),
        ),
      );
      if (timing.sweepEveryMs > 0) {
        const tick = () => {
          sweep()
            .catch((error: unknown) => logger.warn({ err: error }, "agent gateway sweep failed"))
            .finally(() => {
              if (sweepTimer) sweepTimer = setTimeout(tick, timing.sweepEveryMs);
            });
        };
        sweepTimer = setTimeout(tick, timing.sweepEveryMs);
      }
      if (timing.certificateCheckEveryMs > 0) {
        certificateTimer = setInterval(() => {
          pki
            .refreshGatewayCertificate()
            .catch((error: unknown) =>
              logger.warn({ err: error }, "could not check the agent gateway certificate; will retry"),
            );
        }, timing.certificateCheckEveryMs);
      }
      return bound;
    },
    async close() {
      if (sweepTimer) clearTimeout(sweepTimer);
      sweepTimer = undefined;
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
