import { and, eq, gt, inArray, notInArray, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { agentPresence, replicas } from "../../platform/db/schema/replicas.js";

/**
 * A replica's row and its agents' presence rows count while their heartbeat is younger than
 * this (3 heartbeats): a replica killed with -9 stops counting within it.
 */
export const REPLICA_STALE_AFTER_MS = 15_000;
/** How often a replica writes its heartbeat and the list of agents it holds. */
export const REPLICA_HEARTBEAT_EVERY_MS = 5_000;

export interface ReplicaRecord {
  readonly id: string;
  readonly relayAddress: string | null;
  readonly hostname: string;
}

/** Writes (or rewrites, after a restart with the same id) this replica's row. */
export async function registerReplica(
  db: Db,
  replica: ReplicaRecord & { readonly now: Date },
): Promise<void> {
  const values = {
    id: replica.id,
    relayAddress: replica.relayAddress,
    hostname: replica.hostname,
    startedAt: replica.now,
    heartbeatAt: replica.now,
  };
  await db
    .insert(replicas)
    .values(values)
    .onConflictDoUpdate({ target: replicas.id, set: { ...values } });
}

/**
 * One heartbeat: the replica's row, the presence rows of the agents it holds now (taken over
 * from any other replica: the newest stream wins), and its rows for agents it no longer holds
 * removed. Returns false when the replica's row was gone (a peer pruned it) and was written again.
 */
export async function heartbeatReplica(
  db: Db,
  input: ReplicaRecord & { readonly now: Date; readonly held: readonly string[] },
): Promise<boolean> {
  const { now } = input;
  return await db.transaction(async (tx) => {
    const touched = await tx
      .update(replicas)
      .set({ heartbeatAt: now, relayAddress: input.relayAddress })
      .where(eq(replicas.id, input.id))
      .returning({ id: replicas.id });
    if (touched.length === 0) {
      await tx.insert(replicas).values({
        id: input.id,
        relayAddress: input.relayAddress,
        hostname: input.hostname,
        startedAt: now,
        heartbeatAt: now,
      });
    }
    if (input.held.length === 0) {
      await tx.delete(agentPresence).where(eq(agentPresence.replicaId, input.id));
    } else {
      await tx
        .delete(agentPresence)
        .where(
          and(eq(agentPresence.replicaId, input.id), notInArray(agentPresence.serverId, [...input.held])),
        );
      // Only servers that still exist (a removed server's agent may linger until its sweep).
      await tx.execute(sql`
        insert into agent_presence (server_id, replica_id, connected_at, heartbeat_at)
        select s.id, ${input.id}, ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
        from servers s where s.id = any(${`{${input.held.join(",")}}`}::uuid[])
        on conflict (server_id) do update
          set heartbeat_at = excluded.heartbeat_at,
              connected_at = case when agent_presence.replica_id = excluded.replica_id
                                  then agent_presence.connected_at else excluded.connected_at end,
              replica_id = excluded.replica_id`);
    }
    return touched.length > 0;
  });
}

/** Records at once that this replica holds the server's stream (called when a stream goes live). */
export async function recordAgentHeld(
  db: Db,
  input: { readonly serverId: string; readonly replicaId: string; readonly now: Date },
): Promise<void> {
  await db
    .insert(agentPresence)
    .values({
      serverId: input.serverId,
      replicaId: input.replicaId,
      connectedAt: input.now,
      heartbeatAt: input.now,
    })
    .onConflictDoUpdate({
      target: agentPresence.serverId,
      set: { replicaId: input.replicaId, connectedAt: input.now, heartbeatAt: input.now },
    });
}

/** On a clean stop: the replica's row and its presence rows go, so peers stop relaying to it at once. */
export async function removeReplica(db: Db, replicaId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(agentPresence).where(eq(agentPresence.replicaId, replicaId));
    await tx.delete(replicas).where(eq(replicas.id, replicaId));
  });
}

export interface AgentHolder {
  readonly replicaId: string;
  readonly relayAddress: string | null;
}

/** The live replica that holds the server's agent stream, or undefined (offline, or its replica is gone). */
export async function findAgentHolder(
  db: Db,
  input: { readonly serverId: string; readonly now: Date; readonly staleAfterMs?: number },
): Promise<AgentHolder | undefined> {
  const since = new Date(input.now.getTime() - (input.staleAfterMs ?? REPLICA_STALE_AFTER_MS));
  const [row] = await db
    .select({ replicaId: agentPresence.replicaId, relayAddress: replicas.relayAddress })
    .from(agentPresence)
    .innerJoin(replicas, eq(replicas.id, agentPresence.replicaId))
    .where(
      and(
        eq(agentPresence.serverId, input.serverId),
        gt(agentPresence.heartbeatAt, since),
        gt(replicas.heartbeatAt, since),
      ),
    )
    .limit(1);
  return row;
}

/** The replicas whose heartbeat is fresh (for the console and /metrics). */
export async function listLiveReplicas(
  db: Db,
  input: { readonly now: Date; readonly staleAfterMs?: number },
): Promise<Array<ReplicaRecord & { agents: number; heartbeatAt: Date }>> {
  const since = new Date(input.now.getTime() - (input.staleAfterMs ?? REPLICA_STALE_AFTER_MS));
  const rows = await db
    .select({
      id: replicas.id,
      relayAddress: replicas.relayAddress,
      hostname: replicas.hostname,
      heartbeatAt: replicas.heartbeatAt,
      agents: sql<number>`(select count(*)::int from agent_presence p where p.replica_id = ${replicas.id} and p.heartbeat_at > ${since.toISOString()}::timestamptz)`,
    })
    .from(replicas)
    .where(gt(replicas.heartbeatAt, since))
    .orderBy(replicas.id);
  return rows;
}

/** Rows of replicas silent for long (killed, never stopped cleanly): removed by any live replica. */
export async function pruneDeadReplicas(db: Db, input: { readonly now: Date; readonly deadAfterMs: number }) {
  const before = new Date(input.now.getTime() - input.deadAfterMs);
  const dead = await db
    .delete(replicas)
    .where(sql`${replicas.heartbeatAt} < ${before.toISOString()}::timestamptz`)
    .returning({ id: replicas.id });
  if (dead.length > 0) {
    await db.delete(agentPresence).where(
      inArray(
        agentPresence.replicaId,
        dead.map((row) => row.id),
      ),
    );
  }
  return dead.length;
}
