import { asc } from "drizzle-orm";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../test/support/test-databases.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { createDenialAggregator, type Denial, type DenialAggregator } from "./denial-aggregator.js";
import { verifyAuditChain } from "./verify-audit-chain.js";

const denial = (who: string, procedure = "AuditService/ListAuditEntries"): Denial => ({
  key: `${who}|${procedure}`,
  context: { actor: { type: "user", id: who, name: who }, sourceIp: "10.0.0.1", userAgent: "test" },
  event: { action: procedure, targetType: "", targetId: "", detail: "this needs the audit.read permission" },
});

describe("the denial aggregator", () => {
  let database: TestDatabase;
  let aggregator: DenialAggregator | undefined;
  let clock = new Date("2026-12-07T10:00:00Z");
  const advance = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };
  const entries = () => database.db.select().from(auditLog).orderBy(asc(auditLog.id));
  const create = (maxKeys = 100) =>
    createDenialAggregator({
      db: database.db,
      logger: pino({ level: "silent" }),
      windowMs: 60_000,
      maxKeys,
      overflowAction: "access.denied",
      now: () => clock,
    });

  beforeEach(async () => {
    database = await createTestDatabase("pglite");
    clock = new Date("2026-12-07T10:00:00Z");
  });
  afterEach(async () => {
    await aggregator?.close();
    aggregator = undefined;
    await database.close();
  });

  it("writes the first denial at once and a flood of identical ones as one counted entry", async () => {
    aggregator = create();
    await aggregator.record(denial("viewer"));
    expect(await entries()).toMatchObject([
      { result: "denied", actorId: "viewer", action: "AuditService/ListAuditEntries" },
    ]);
    for (let i = 0; i < 10_000; i++) {
      advance(1);
      await aggregator.record(denial("viewer"));
    }
    expect(await entries()).toHaveLength(1);
    advance(60_000);
    await aggregator.flush();
    const rows = await entries();
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({
      result: "denied",
      actorId: "viewer",
      afterJson: expect.stringContaining('"repeated":10000'),
    });
    expect(rows[1]?.detail).toMatch(/^denied 10000 more time\(s\) between 2026-12-07T10:00:00.000Z and /);
    // Quiet for a whole window: forgotten, and the next denial is written at once again.
    advance(60_000);
    await aggregator.flush();
    expect(aggregator.size).toBe(0);
    await aggregator.record(denial("viewer"));
    expect(await entries()).toHaveLength(3);
    expect(await verifyAuditChain(database.db, 100)).toEqual({ ok: true, checked: 3 });
  });

  it("keeps callers and procedures apart", async () => {
    aggregator = create();
    await aggregator.record(denial("a"));
    await aggregator.record(denial("b"));
    await aggregator.record(denial("a", "AuditService/VerifyAuditChain"));
    await aggregator.record(denial("a"));
    expect((await entries()).map((row) => [row.actorId, row.action])).toEqual([
      ["a", "AuditService/ListAuditEntries"],
      ["b", "AuditService/ListAuditEntries"],
      ["a", "AuditService/VerifyAuditChain"],
    ]);
    await aggregator.close();
    expect(await entries()).toHaveLength(4);
    aggregator = undefined;
  });

  it("stays bounded when a flood comes from ever new callers", async () => {
    aggregator = create(50);
    for (let i = 0; i < 5000; i++) await aggregator.record(denial(`caller-${i}`));
    expect(aggregator.size).toBe(50);
    expect(await entries()).toHaveLength(50);
    advance(60_000);
    await aggregator.flush();
    const rows = await entries();
    expect(rows).toHaveLength(51);
    expect(rows[50]).toMatchObject({ action: "access.denied", actorType: "system", result: "denied" });
    expect(rows[50]?.detail).toMatch(/^4950 denial\(s\) between .* from more distinct callers than the 50/);
    expect(aggregator.size).toBe(0);
  });
});
