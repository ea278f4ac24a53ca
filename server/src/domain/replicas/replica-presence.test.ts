import { afterEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { servers } from "../../platform/db/schema/servers.js";
import {
  findAgentHolder,
  heartbeatReplica,
  listLiveReplicas,
  pruneDeadReplicas,
  REPLICA_STALE_AFTER_MS,
  registerReplica,
  removeReplica,
} from "./replica-presence.js";

const a = { id: "replica-a", relayAddress: "10.0.0.1:8444", hostname: "a" };
const b = { id: "replica-b", relayAddress: "10.0.0.2:8444", hostname: "b" };

describe.each(databaseKinds)("replica presence on %s", (kind) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it("names the replica that holds an agent, follows a reconnect to another, and forgets a dead replica", async () => {
    database = await createTestDatabase(kind);
    const { db } = database;
    const [server] = await db.insert(servers).values({ name: "web-1" }).returning();
    const serverId = server?.id as string;
    const t0 = new Date("2026-12-07T12:00:00Z");
    const at = (ms: number) => new Date(t0.getTime() + ms);
    await registerReplica(db, { ...a, now: t0 });
    await registerReplica(db, { ...b, now: t0 });
    expect(await findAgentHolder(db, { serverId, now: t0 })).toBeUndefined();

    await heartbeatReplica(db, { ...a, now: at(1000), held: [serverId] });
    expect(await findAgentHolder(db, { serverId, now: at(1000) })).toEqual({
      replicaId: a.id,
      relayAddress: a.relayAddress,
    });

    // The agent reconnects through the balancer to B; A has not noticed yet and still lists it.
    await heartbeatReplica(db, { ...b, now: at(2000), held: [serverId] });
    expect((await findAgentHolder(db, { serverId, now: at(2000) }))?.replicaId).toBe(b.id);
    // A's next beat, without the agent, does not remove B's row.
    await heartbeatReplica(db, { ...a, now: at(3000), held: [] });
    expect((await findAgentHolder(db, { serverId, now: at(3000) }))?.replicaId).toBe(b.id);
    const live = await listLiveReplicas(db, { now: at(3000) });
    expect(live.map((replica) => [replica.id, replica.agents])).toEqual([
      [a.id, 0],
      [b.id, 1],
    ]);

    // B is killed (-9): no more beats. Past the stale bound it is not named any more.
    await heartbeatReplica(db, { ...a, now: at(2000 + REPLICA_STALE_AFTER_MS + 1), held: [] });
    expect(
      await findAgentHolder(db, { serverId, now: at(2000 + REPLICA_STALE_AFTER_MS + 1) }),
    ).toBeUndefined();
    expect(
      (await listLiveReplicas(db, { now: at(2000 + REPLICA_STALE_AFTER_MS + 1) })).map((r) => r.id),
    ).toEqual([a.id]);
    expect(
      await pruneDeadReplicas(db, { now: at(2000 + REPLICA_STALE_AFTER_MS + 1), deadAfterMs: 10_000 }),
    ).toBe(1);
    expect(
      await pruneDeadReplicas(db, { now: at(2000 + REPLICA_STALE_AFTER_MS + 1), deadAfterMs: 10_000 }),
    ).toBe(0);

    // A clean stop removes the replica's rows at once.
    await heartbeatReplica(db, { ...a, now: at(20_000), held: [serverId] });
    expect((await findAgentHolder(db, { serverId, now: at(20_000) }))?.replicaId).toBe(a.id);
    await removeReplica(db, a.id);
    expect(await findAgentHolder(db, { serverId, now: at(20_000) })).toBeUndefined();
    // A heartbeat after the row was pruned writes it again (and says so).
    expect(await heartbeatReplica(db, { ...a, now: at(21_000), held: [serverId] })).toBe(false);
    expect((await findAgentHolder(db, { serverId, now: at(21_000) }))?.replicaId).toBe(a.id);
  });

  it("ignores held ids of servers that were removed", async () => {
    database = await createTestDatabase(kind);
    const { db } = database;
    const now = new Date();
    await registerReplica(db, { ...a, now });
    await heartbeatReplica(db, { ...a, now, held: ["00000000-0000-4000-8000-000000000001"] });
    expect((await listLiveReplicas(db, { now }))[0]?.agents).toBe(0);
  });
});
