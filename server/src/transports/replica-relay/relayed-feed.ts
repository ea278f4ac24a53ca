import type { CommandFeed } from "../../domain/commands/command-feed.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { ReplicaRelayClient } from "./relay-client.js";
import type { FindHolder } from "./routed-ssh-tunnels.js";

/**
 * The command feed of a replica among several. Events this replica stores are published to its
 * own watchers (`inner`, also what the relay serves to peers). While a command has watchers here
 * and its agent is held by another replica, the events stored there are relayed in and published
 * here too; watchers skip what they already have (by output sequence), so a chunk seen both ways
 * is shown once. When the relayed call ends before the command did (the agent moved, a replica
 * died) the holder is looked up again every `retryMs`.
 */
export function createRelayedFeed(deps: {
  readonly inner: CommandFeed;
  readonly replicaId: string;
  /** The server a command runs on (undefined: no such command). */
  readonly serverOf: (commandId: string) => Promise<string | undefined>;
  readonly findHolder: FindHolder;
  readonly relay: ReplicaRelayClient;
  readonly logger: Logger;
  readonly retryMs?: number;
}): CommandFeed {
  const { inner } = deps;
  const retryMs = deps.retryMs ?? 2_000;
  /** Commands watched here → how to stop relaying them in. */
  const remote = new Map<string, { stop(): void }>();
  const watchers = new Map<string, number>();

  const follow = (commandId: string) => {
    let stopped = false;
    let cancel: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const handle = {
      stop() {
        stopped = true;
        clearTimeout(timer);
        cancel?.();
      },
    };
    const retry = () => {
      if (!stopped) timer = setTimeout(attempt, retryMs);
    };
    const attempt = async () => {
      if (stopped) return;
      try {
        const serverId = await deps.serverOf(commandId);
        if (!serverId) return;
        const holder = await deps.findHolder(serverId);
        if (stopped) return;
        if (!holder || holder.replicaId === deps.replicaId || !holder.relayAddress) return retry();
        let finished = false;
        cancel = deps.relay.watchCommandFeed(
          { ...holder, relayAddress: holder.relayAddress },
          commandId,
          (event) => {
            if (event.kind === "finished") finished = true;
            inner.publish(commandId, event);
          },
          (error) => {
            cancel = undefined;
            if (error) deps.logger.debug({ err: error, commandId }, "relayed command feed ended");
            if (!finished) retry();
          },
        );
      } catch (error) {
        deps.logger.warn({ err: error, commandId }, "could not follow a command held by another replica");
        retry();
      }
    };
    void attempt();
    return handle;
  };

  return {
    get subscriptions() {
      return inner.subscriptions;
    },
    publish: (commandId, event) => inner.publish(commandId, event),
    subscribe(commandId, listener) {
      const unsubscribe = inner.subscribe(commandId, listener);
      const count = (watchers.get(commandId) ?? 0) + 1;
      watchers.set(commandId, count);
      if (count === 1) remote.set(commandId, follow(commandId));
      let done = false;
      return () => {
        if (done) return;
        done = true;
        unsubscribe();
        const left = (watchers.get(commandId) ?? 1) - 1;
        if (left > 0) {
          watchers.set(commandId, left);
          return;
        }
        watchers.delete(commandId);
        remote.get(commandId)?.stop();
        remote.delete(commandId);
      };
    },
  };
}
