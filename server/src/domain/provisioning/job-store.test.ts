import { afterEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { servers } from "../../platform/db/schema/servers.js";
import { claimJob, enqueueJob, findJob, releaseJobs, renewLease } from "./job-store.js";

describe.each(databaseKinds)("provisioning job claiming on %s", (kind) => {
  let database: TestDatabase;
  afterEach(() => database.close());

  const addServer = async (name: string) =>
    (await database.db.insert(servers).values({ name }).returning())[0]?.id ?? "";

  it("never gives a join job to a worker: the joining host drives it, SSH could only fail", async () => {
    database = await createTestDatabase(kind);
    const t0 = new Date("2026-01-01T00:00:00Z");
    const joined = await addServer("joined");
    await enqueueJob(database.db, { serverId: joined, kind: "join", step: "connect", now: t0 });
    const later = new Date(t0.getTime() + 3_600_000);
    expect(await claimJob(database.db, { owner: "w1", leaseMs: 30_000, now: later })).toBeUndefined();
    const ssh = await addServer("ssh");
    await enqueueJob(database.db, { serverId: ssh, kind: "provision", step: "connect", now: t0 });
    expect(await claimJob(database.db, { owner: "w1", leaseMs: 30_000, now: later })).toMatchObject({
      serverId: ssh,
    });
  });

  it("gives each due job to one owner, and a job whose lease ran out to the next", async () => {
    database = await createTestDatabase(kind);
    const t0 = new Date("2026-01-01T00:00:00Z");
    const a = await addServer("a");
    const b = await addServer("b");
    await enqueueJob(database.db, { serverId: a, kind: "provision", step: "connect", now: t0 });
    await enqueueJob(database.db, { serverId: b, kind: "provision", step: "connect", now: t0 });

    const claims = await Promise.all(
      ["w1", "w2", "w3"].map((owner) => claimJob(database.db, { owner, leaseMs: 30_000, now: t0 })),
    );
    const claimed = claims.filter((job) => job !== undefined);
    expect(claimed.map((job) => job.serverId).sort()).toEqual([a, b].sort());
    expect(new Set(claimed.map((job) => job.leaseOwner)).size).toBe(2);
    expect(await claimJob(database.db, { owner: "w4", leaseMs: 30_000, now: t0 })).toBeUndefined();

    const holder = claimed.find((job) => job.serverId === a)?.leaseOwner ?? "";
    const t1 = new Date(t0.getTime() + 20_000);
    expect(
      await renewLease(database.db, {
        serverId: a,
        owner: holder,
        kind: "provision",
        leaseMs: 30_000,
        now: t1,
      }),
    ).toBe(true);
    expect(
      await renewLease(database.db, {
        serverId: a,
        owner: "w4",
        kind: "provision",
        leaseMs: 30_000,
        now: t1,
      }),
    ).toBe(false);

    // b's owner died (no renewal): after its lease, another process resumes it at its step.
    const t2 = new Date(t0.getTime() + 40_000);
    const resumed = await claimJob(database.db, { owner: "w5", leaseMs: 30_000, now: t2 });
    expect(resumed).toMatchObject({ serverId: b, leaseOwner: "w5", step: "connect", state: "running" });
  });

  it("lets a removal replace a running provisioning job, whose owner then loses it", async () => {
    database = await createTestDatabase(kind);
    const now = new Date("2026-01-01T00:00:00Z");
    const a = await addServer("a");
    await enqueueJob(database.db, { serverId: a, kind: "provision", step: "connect", now });
    await claimJob(database.db, { owner: "w1", leaseMs: 30_000, now });
    await enqueueJob(database.db, { serverId: a, kind: "remove", step: "uninstall", now, force: true });
    expect(
      await renewLease(database.db, { serverId: a, owner: "w1", kind: "provision", leaseMs: 30_000, now }),
    ).toBe(false);
    expect(await findJob(database.db, a)).toMatchObject({
      kind: "remove",
      state: "pending",
      attempt: 2,
      force: true,
    });
    const next = await claimJob(database.db, { owner: "w2", leaseMs: 30_000, now });
    expect(next).toMatchObject({ kind: "remove", step: "uninstall" });
  });

  it("gives claimed jobs back on a clean shutdown so they resume at once", async () => {
    database = await createTestDatabase(kind);
    const now = new Date("2026-01-01T00:00:00Z");
    const a = await addServer("a");
    await enqueueJob(database.db, { serverId: a, kind: "provision", step: "wait_agent", now });
    await claimJob(database.db, { owner: "w1", leaseMs: 30_000, now });
    await releaseJobs(database.db, "w1");
    expect(await claimJob(database.db, { owner: "w2", leaseMs: 30_000, now })).toMatchObject({
      step: "wait_agent",
      leaseOwner: "w2",
    });
  });
});
