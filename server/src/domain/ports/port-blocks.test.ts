import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { instances, portBlocks } from "../../platform/db/schema/instances.js";
import { servers } from "../../platform/db/schema/servers.js";
import { allocatePortBlock, firstFreeBase } from "./port-blocks.js";

describe("firstFreeBase", () => {
  it("takes the lowest free block and skips blocks touching a listening port", () => {
    expect(firstFreeBase(new Set(), new Set())).toBe(10_000);
    expect(firstFreeBase(new Set([10_000, 10_020]), new Set())).toBe(10_010);
    expect(firstFreeBase(new Set([10_000]), new Set([10_012]))).toBe(10_020);
    // Ports of a block that the instance does not publish (+3…+9) do not matter.
    expect(firstFreeBase(new Set(), new Set([10_005]))).toBe(10_000);
  });

  it("answers undefined when every block is taken", () => {
    const all = new Set<number>();
    for (let base = 10_000; base <= 65_520; base += 10) all.add(base);
    expect(firstFreeBase(all, new Set())).toBeUndefined();
  });
});

describe.each(databaseKinds)("port block allocation on %s", (kind) => {
  let database: TestDatabase;
  let serverId: string;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    const [server] = await database.db
      .insert(servers)
      .values({ name: `ports-${kind}` })
      .returning();
    serverId = server?.id ?? "";
  });
  afterAll(async () => database?.close());

  /** One instance created the way the service does it: record and block in one transaction. */
  const createWithBlock = (name: string, listening: ReadonlySet<number> = new Set()) =>
    database.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(instances)
        .values({ serverId, name, odooImage: "o", postgresImage: "p", mailpitImage: "m", basePort: 0 })
        .returning();
      if (!row) throw new Error("no instance row");
      const base = await allocatePortBlock(tx, { serverId, instanceId: row.id, listening });
      await tx.update(instances).set({ basePort: base }).where(eq(instances.id, row.id));
      return { id: row.id, base };
    });

  it("gives 20 concurrent creations 20 distinct blocks 10000…10190", async () => {
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => createWithBlock(`c${i}`)));
    const bases = created.map((entry) => entry.base).sort((a, b) => a - b);
    expect(bases).toEqual(Array.from({ length: 20 }, (_, i) => 10_000 + i * 10));
    await database.db.delete(instances).where(eq(instances.serverId, serverId));
  });

  it("frees a block when its instance is deleted and reuses it", async () => {
    const a = await createWithBlock("free-a");
    const b = await createWithBlock("free-b");
    expect([a.base, b.base]).toEqual([10_000, 10_010]);
    await database.db.delete(instances).where(eq(instances.id, a.id));
    expect(await database.db.select().from(portBlocks).where(eq(portBlocks.instanceId, a.id))).toEqual([]);
    const c = await createWithBlock("free-c");
    expect(c.base).toBe(10_000);
    await database.db.delete(instances).where(eq(instances.serverId, serverId));
  });

  it("skips a block whose ports something else listens on", async () => {
    const a = await createWithBlock("busy-a", new Set([10_001]));
    expect(a.base).toBe(10_010);
    await database.db.delete(instances).where(eq(instances.serverId, serverId));
  });

  it("refuses a second row for the same block (the constraint, not a check)", async () => {
    const a = await createWithBlock("dup-a");
    const [other] = await database.db
      .insert(instances)
      .values({ serverId, name: "dup-b", odooImage: "o", postgresImage: "p", mailpitImage: "m", basePort: 0 })
      .returning();
    await expect(
      database.db.insert(portBlocks).values({ serverId, basePort: a.base, instanceId: other?.id ?? "" }),
    ).rejects.toThrow();
    await database.db.delete(instances).where(eq(instances.serverId, serverId));
  });
});
