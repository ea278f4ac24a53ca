import type { AgentHolder } from "../../domain/replicas/replica-presence.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { SessionRegistry } from "../agent-gateway/session-registry.js";
import type { SshTunnels } from "../agent-gateway/ssh-tunnels.js";
import type { ReplicaRelayClient } from "./relay-client.js";

/** Finds the live replica holding a server's agent (domain/replicas/replica-presence.ts, bound to db and now). */
export type FindHolder = (serverId: string) => Promise<AgentHolder | undefined>;

/**
 * SSH tunnels from any replica: through this replica's own agent stream when it holds the
 * server's, else over the relay to the replica the presence table names.
 */
export function createRoutedSshTunnels(deps: {
  readonly local: SshTunnels;
  readonly registry: SessionRegistry;
  readonly replicaId: string;
  readonly findHolder: FindHolder;
  readonly relay: ReplicaRelayClient;
}): SshTunnels {
  return {
    handler: deps.local.handler,
    async open(serverId, spec) {
      if (deps.registry.get(serverId)?.live) return await deps.local.open(serverId, spec);
      const holder = await deps.findHolder(serverId);
      if (!holder || holder.replicaId === deps.replicaId || !holder.relayAddress) {
        throw new AppError("unavailable", "the server's agent is offline (connected to no oCore replica)");
      }
      return await deps.relay.openSshTunnel({ ...holder, relayAddress: holder.relayAddress }, serverId, spec);
    },
  };
}
