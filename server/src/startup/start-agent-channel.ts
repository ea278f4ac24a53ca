import type { BackupStore } from "../domain/backups/backup-store.js";
import { openBackupStore } from "../domain/backups/open-backup-store.js";
import type { CommandService } from "../domain/commands/command-service.js";
import { createCommandRunner } from "../domain/commands/create-command-runner.js";
import { createThresholdResolver } from "../domain/host-checks/server-thresholds.js";
import { createMetricWriter } from "../domain/metrics/metric-writer.js";
import { startMetricsMaintenance } from "../domain/metrics/metrics-maintenance.js";
import type { ServerTelemetry } from "../domain/telemetry/server-telemetry.js";
import type { Config } from "../platform/config/config.js";
import type { Db } from "../platform/db/database.js";
import { componentLogger, type Logger } from "../platform/logging/logger.js";
import { type AgentPki, ensureAgentPki } from "../platform/pki/agent-pki.js";
import type { MasterKeyring } from "../platform/pki/master-key.js";
import { SessionRegistry } from "../transports/agent-gateway/session-registry.js";
import type { SshTunnels } from "../transports/agent-gateway/ssh-tunnels.js";
import { type AgentGateway, createAgentGateway } from "./create-agent-gateway.js";
import { describeListenFailure } from "./listen-errors.js";
import { prepareReplica } from "./start-replica.js";

export interface AgentChannel {
  readonly pki: AgentPki;
  readonly gateway: AgentGateway;
  /** Runs commands on hosts (CommandRunner) and feeds the command API. */
  readonly commands: CommandService;
  /** The live agent streams of this replica (who can be sent a command right now). */
  readonly registry: SessionRegistry;
  readonly port: number;
  /** Where instance backups are stored (agents upload and download through the gateway). */
  readonly backupStore: BackupStore;
  /** SSH tunnels to any agent: held here, or over the relay through the replica that holds it. */
  readonly sshTunnels: SshTunnels;
  /** This process's id among the replicas (the `replicas` table). */
  readonly replicaId: string;
  /** Agent streams this process holds now. */
  agentsConnected(): number;
  close(): Promise<void>;
}

/**
 * The agent side of the server: the PKI (created on the first start), the metric writer and
 * its maintenance job, and the gateway listening on OCORE_AGENT_ADDR. Closes what it started
 * when a step fails.
 */
export async function startAgentChannel(options: {
  readonly config: Config;
  readonly db: Db;
  readonly keyring: MasterKeyring;
  readonly installationId: string;
  readonly logger: Logger;
  readonly version: string;
  readonly now: () => Date;
  /** Counts what the metric writer ingests (for /metrics). */
  readonly telemetry?: Pick<ServerTelemetry, "instrumentWriter">;
}): Promise<AgentChannel> {
  const { config, db, logger, now } = options;
  // First: a bucket that cannot be used stops the start before anything else runs.
  const backupStore = await openBackupStore(config.instances);
  const pki = await ensureAgentPki(db, {
    keyring: options.keyring,
    hostnames: config.agent.hostnames,
    installationId: options.installationId,
    logger,
    now,
  });
  const plainWriter = createMetricWriter(db, { logger, now });
  const writer = options.telemetry ? options.telemetry.instrumentWriter(plainWriter) : plainWriter;
  const maintenance = startMetricsMaintenance({ db, logger, retention: config.metricsRetention, now });
  const replica = await prepareReplica({ config, db, pki, logger, now });
  const registry = new SessionRegistry((serverId) => replica.onRegister(serverId));
  const commands = createCommandRunner({
    db,
    feed: replica.feed,
    replicaId: replica.replicaId,
    links: registry,
    logger: componentLogger(logger, "commands"),
    now,
  });
  const gateway = createAgentGateway({
    db,
    registry,
    backupStore,
    commands: commands.sink,
    pki,
    writer,
    logger: componentLogger(logger, "agent-gateway"),
    version: options.version,
    metricsIntervalSeconds: config.agent.metricsIntervalSeconds,
    certificateDays: config.agent.certificateDays,
    agentExecutable: config.agent.executable,
    thresholdsFor: createThresholdResolver(config.alerts.builtin),
    timing: { handshakeTimeoutMs: config.connectTimeoutMs },
    now,
  });
  const close = async () => {
    await replica.close();
    await gateway.close();
    await commands.close();
    await maintenance.stop();
    await writer.close();
    backupStore.close?.();
  };
  const { host, port } = config.agent.listen;
  let bound: number;
  try {
    bound = await gateway.listen(host, port);
  } catch (error) {
    await close();
    throw describeListenFailure(host, port, withErrnoCode(error), "OCORE_AGENT_ADDR");
  }
  logger.info(
    { address: `${host}:${bound}`, publicAddress: config.agent.publicAddress },
    "agent gateway listening",
  );
  let sshTunnels: SshTunnels;
  try {
    sshTunnels = await replica.start({ registry, localTunnels: gateway.sshTunnels });
  } catch (error) {
    await close();
    const relay = config.relay.listen;
    if (!relay) throw error;
    throw describeListenFailure(relay.host, relay.port, withErrnoCode(error), "OCORE_RELAY_ADDR");
  }
  return {
    pki,
    gateway,
    commands,
    registry,
    sshTunnels,
    replicaId: replica.replicaId,
    port: bound,
    backupStore,
    agentsConnected: () => registry.size,
    close,
  };
}

/** grpc-js reports bind failures as text ("… listen EADDRINUSE: address already in use …"). */
function withErrnoCode(error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  const code = /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN)\b/.exec(message)?.[1];
  return code ? Object.assign(new Error(message), { code }) : error;
}
