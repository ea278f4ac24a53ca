import { defaultAgentExecutable } from "../domain/agent-release/agent-release.js";
import { createDenialAggregator } from "../domain/audit/denial-aggregator.js";
import type { BackupStore } from "../domain/backups/backup-store.js";
import type { CommandEventSink } from "../domain/commands/command-transport.js";
import type { ThresholdResolver } from "../domain/host-checks/server-thresholds.js";
import type { MetricWriter } from "../domain/metrics/metric-writer.js";
import {
  PING_QUIET_AFTER_MS,
  PRESENCE_SWEEP_EVERY_MS,
  SILENT_AFTER_MS,
} from "../domain/presence/server-presence.js";
import type { Db } from "../platform/db/database.js";
import type { Logger } from "../platform/logging/logger.js";
import type { AgentPki } from "../platform/pki/agent-pki.js";
import type { AgentSession } from "../transports/agent-gateway/agent-session.js";
import { createBackupTransferHandlers } from "../transports/agent-gateway/backup-transfer-handler.js";
import { createConnectHandler } from "../transports/agent-gateway/connect-handler.js";
import { createEnrollHandler } from "../transports/agent-gateway/enroll-handler.js";
import { createAgentGrpcServer } from "../transports/agent-gateway/grpc-server.js";
import { createPendingUsage } from "../transports/agent-gateway/pending-usage.js";
import { createPresenceSweeps, type SweepTiming } from "../transports/agent-gateway/presence-sweeps.js";
import { createDownloadAgentHandler } from "../transports/agent-gateway/release-download-handler.js";
import { registerAgentRoutes } from "../transports/agent-gateway/routes.js";
import { SessionRegistry } from "../transports/agent-gateway/session-registry.js";
import { createSshTunnels, type SshTunnels } from "../transports/agent-gateway/ssh-tunnels.js";
import { createAgentSessionHooks } from "./agent-session-hooks.js";

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
  /** The built-in thresholds for a server's tags (judges the agents' inode results). */
  readonly thresholdsFor?: ThresholdResolver;
}

export interface GatewayTiming extends SweepTiming {
  readonly helloTimeoutMs: number;
  /**
   * How often the gateway's TLS certificate is checked, and renewed (or another replica's
   * renewal adopted) when it expires within 30 days; new connections get the new one.
   */
  readonly certificateCheckEveryMs: number;
  /** A connection's TLS handshake must finish within this (OCORE_CONNECT_TIMEOUT_SECONDS). */
  readonly handshakeTimeoutMs: number;
}

const defaultTiming: GatewayTiming = {
  pingEveryMs: PING_QUIET_AFTER_MS,
  silentAfterMs: SILENT_AFTER_MS,
  sweepEveryMs: PRESENCE_SWEEP_EVERY_MS,
  helloTimeoutMs: 15_000,
  certificateCheckEveryMs: 3_600_000,
  handshakeTimeoutMs: 10_000,
};

export interface AgentGateway {
  listen(host: string, port: number): Promise<number>;
  /** One round of the periodic checks (runs on a timer after listen; tests call it directly). */
  sweep(options?: { readonly late?: boolean }): Promise<void>;
  readonly registry: SessionRegistry;
  /** SSH tunnels through the agents' channels (the SSH gateway's transport to hosts). */
  readonly sshTunnels: SshTunnels;
  /** True when this process holds the server's live stream and its agent pushed its instance states on it. */
  pushesInstanceStates(serverId: string): boolean;
  close(): Promise<void>;
}

/**
 * The agent gateway, wired: the grpc-js server (agent-gateway/grpc-server.ts) serving the routes
 * of the agent port (agent-gateway/routes.ts), each stream's messages handed to the session
 * hooks (./agent-session-hooks.ts), and the presence sweeps over the live streams.
 */
export function createAgentGateway(options: AgentGatewayOptions): AgentGateway {
  const { db, pki, logger } = options;
  const now = options.now ?? (() => new Date());
  const timing = { ...defaultTiming, ...options.timing };
  const registry = options.registry ?? new SessionRegistry();
  const sessions = new Set<AgentSession>();
  const grpcServer = createAgentGrpcServer({
    pki,
    logger,
    certificateCheckEveryMs: timing.certificateCheckEveryMs,
    handshakeTimeoutMs: timing.handshakeTimeoutMs,
  });
  const pendingUsage = createPendingUsage();
  const sweeps = createPresenceSweeps({ db, registry, logger, now, timing, pendingUsage });
  const hooks = createAgentSessionHooks({
    pendingUsage,
    db,
    pki,
    registry,
    writer: options.writer,
    commands: options.commands,
    logger,
    now,
    certificateDays: options.certificateDays,
    thresholdsFor: options.thresholdsFor,
  });

  const sshTunnels = createSshTunnels({ db, pki, registry, logger, now });

  // Refused enrollments and streams: security events, one entry per source address and window.
  const refusals = createDenialAggregator({ db, logger, now, overflowAction: "agent.refused" });

  registerAgentRoutes(grpcServer.server, {
    enrollment: {
      enroll: createEnrollHandler({
        db,
        pki,
        logger,
        certificateDays: options.certificateDays,
        now,
        refusals,
      }),
    },
    release: {
      downloadAgent: createDownloadAgentHandler({
        db,
        pki,
        logger,
        now,
        executablePath: options.agentExecutable ?? defaultAgentExecutable(),
      }),
    },
    backupTransfer: options.backupStore
      ? createBackupTransferHandlers({ db, pki, logger, now, store: options.backupStore })
      : undefined,
    agent: {
      connect: createConnectHandler({
        db,
        pki,
        logger,
        now,
        sessions,
        refusals,
        hooks,
        helloTimeoutMs: timing.helloTimeoutMs,
        welcome: { serverVersion: options.version, metricsIntervalSeconds: options.metricsIntervalSeconds },
      }),
      tunnel: sshTunnels.handler,
    },
  });

  return {
    registry,
    sshTunnels,
    sweep: sweeps.sweep,
    pushesInstanceStates: (serverId) => registry.get(serverId)?.instanceStatesSynced === true,
    async listen(host, port) {
      const bound = await grpcServer.listen(host, port);
      sweeps.start();
      return bound;
    },
    async close() {
      sweeps.stop();
      await grpcServer.close(sessions);
      await refusals.close();
    },
  };
}
