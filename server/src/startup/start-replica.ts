import { randomUUID } from "node:crypto";
import os from "node:os";
import { eq } from "drizzle-orm";
import { type CommandFeed, createCommandFeed } from "../domain/commands/command-feed.js";
import { type ReplicaHeartbeat, startReplicaHeartbeat } from "../domain/replicas/replica-heartbeat.js";
import { findAgentHolder } from "../domain/replicas/replica-presence.js";
import type { Config } from "../platform/config/config.js";
import type { Db } from "../platform/db/database.js";
import { commands } from "../platform/db/schema/commands.js";
import { componentLogger, type Logger } from "../platform/logging/logger.js";
import type { AgentPki } from "../platform/pki/agent-pki.js";
import { createReplicaCertificate } from "../platform/pki/certificates.js";
import type { SessionRegistry } from "../transports/agent-gateway/session-registry.js";
import type { SshTunnels } from "../transports/agent-gateway/ssh-tunnels.js";
import { createRelayClient, type ReplicaRelayClient } from "../transports/replica-relay/relay-client.js";
import type { RelayIdentity } from "../transports/replica-relay/relay-credentials.js";
import { createRelayServer, type RelayServer } from "../transports/replica-relay/relay-server.js";
import { createRelayedFeed } from "../transports/replica-relay/relayed-feed.js";
import { createRoutedSshTunnels, type FindHolder } from "../transports/replica-relay/routed-ssh-tunnels.js";

/** How long a replica's relay certificate is valid; it is issued again at every start. */
const REPLICA_CERTIFICATE_DAYS = 397;

export interface ReplicaWiring {
  readonly replicaId: string;
  /** The command feed the runner publishes to (relayed in from peers when the relay is on). */
  readonly feed: CommandFeed;
  /** A stream went live here (SessionRegistry's onRegister). */
  onRegister(serverId: string): void;
  /** Starts the relay (when configured) and the heartbeat; returns the SSH tunnels to use. */
  start(deps: { readonly registry: SessionRegistry; readonly localTunnels: SshTunnels }): Promise<SshTunnels>;
  close(): Promise<void>;
}

/**
 * This process as one replica among several (decision 0190): its id, its rows in `replicas` and
 * `agent_presence`, and, when OCORE_RELAY_ADDR is set on PostgreSQL, the relay: a grpc-js server
 * with mutual TLS (a replica certificate from the installation's CA, issued now) serving the
 * agents held here to the other replicas, and a client that reaches theirs.
 */
export async function prepareReplica(options: {
  readonly config: Config;
  readonly db: Db;
  readonly pki: AgentPki;
  readonly logger: Logger;
  readonly now: () => Date;
}): Promise<ReplicaWiring> {
  const { config, db, now } = options;
  const logger = componentLogger(options.logger, "replicas");
  const replicaId = randomUUID();
  const inner = createCommandFeed();
  const relayOn = config.relay.listen !== undefined && config.database.kind === "postgres";
  let identity: RelayIdentity | undefined;
  let client: ReplicaRelayClient | undefined;
  const findHolder: FindHolder = (serverId) => findAgentHolder(db, { serverId, now: now() });
  if (relayOn) {
    const issued = await createReplicaCertificate(options.pki.issuer, {
      replicaId,
      days: REPLICA_CERTIFICATE_DAYS,
      now: now(),
    });
    identity = { replicaId, ...issued, caCertificatePem: options.pki.caCertificatePem };
    client = createRelayClient(identity);
  }
  const feed =
    client === undefined
      ? inner
      : createRelayedFeed({
          inner,
          replicaId,
          relay: client,
          findHolder,
          logger,
          serverOf: async (commandId) =>
            (
              await db
                .select({ serverId: commands.serverId })
                .from(commands)
                .where(eq(commands.id, commandId))
            )[0]?.serverId,
        });
  let heartbeat: ReplicaHeartbeat | undefined;
  let server: RelayServer | undefined;

  return {
    replicaId,
    feed,
    onRegister: (serverId) => heartbeat?.held(serverId),
    async start({ registry, localTunnels }) {
      let relayAddress: string | null = null;
      if (identity && client && config.relay.listen) {
        server = createRelayServer({ identity, tunnels: localTunnels, feed: inner, logger });
        const bound = await server.listen(config.relay.listen.host, config.relay.listen.port);
        const publicAddress = config.relay.publicAddress ?? { host: os.hostname(), port: bound };
        const port = config.relay.listen.port === 0 ? bound : publicAddress.port;
        relayAddress = `${publicAddress.host.includes(":") ? `[${publicAddress.host}]` : publicAddress.host}:${port}`;
        logger.info({ replicaId, relayAddress }, "replica relay listening");
      }
      heartbeat = await startReplicaHeartbeat({
        db,
        logger,
        now,
        replica: { id: replicaId, relayAddress, hostname: os.hostname() },
        heldServers: () => registry.serverIds(),
      });
      if (!client) return localTunnels;
      return createRoutedSshTunnels({ local: localTunnels, registry, replicaId, findHolder, relay: client });
    },
    async close() {
      await heartbeat?.stop();
      await server?.close();
      client?.close();
    },
  };
}
