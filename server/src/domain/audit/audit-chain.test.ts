import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { systemContext } from "./audit-context.js";
import { recordAudit } from "./record-audit.js";
import { verifyAuditChain } from "./verify-audit-chain.js";

async function writeEntries(database: TestDatabase, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await database.db.transaction((tx) =>
      recordAudit(tx, systemContext(), {
        action: "test.write",
        targetType: "thing",
        targetId: `t-${i}`,
        after: { index: i, password: "hunter2" },
      }),
    );
  }
}

describe.each(databaseKinds)("the audit chain on %s", (kind) => {
  let database: TestDatabase;
  // In a hook: a first PGlite start can take longer than a test under load, and is not under test.
  beforeEach(async () => {
    database = await createTestDatabase(kind);
  });
  afterEach(() => database.close());

  it("links every entry to the previous one, and verifies", async () => {
    await writeEntries(database, 5);
    expect(await verifyAuditChain(database.db, 2)).toEqual({ ok: true, checked: 5 });
    const rows = await database.db.execute(sql`select after_json from audit_log where id = 1`);
    expect(JSON.stringify(rows)).toContain("[redacted]");
    expect(JSON.stringify(rows)).not.toContain("hunter2");
  });

  it("refuses UPDATE, DELETE and TRUNCATE in the database itself", async () => {
    await writeEntries(database, 1);
    await expect(database.db.execute(sql`update audit_log set actor_name = 'x'`)).rejects.toThrow();
    await expect(database.db.execute(sql`delete from audit_log`)).rejects.toThrow();
    await expect(database.db.execute(sql`truncate audit_log`)).rejects.toThrow();
  });

  it("finds a row altered behind the trigger's back, and a removed one", async () => {
    await writeEntries(database, 6);
    await database.db.execute(sql`alter table audit_log disable trigger audit_log_append_only`);
    await database.db.execute(sql`update audit_log set detail = 'nothing happened' where id = 4`);
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: false,
      checked: 3,
      firstBrokenId: 4,
      problem: "its content does not match its hash",
    });
    await database.db.execute(sql`delete from audit_log where id >= 3`);
    await database.db.execute(sql`insert into audit_log select 5, at, actor_type, actor_id, actor_name, action, target_type,
      target_id, before_json, after_json, source_ip, user_agent, result, detail, previous_hash, hash
      from audit_log where id = 2`);
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: false,
      firstBrokenId: 3,
      problem: "entry 3 is missing",
    });
  });

  it("keeps ids gapless when writers race", async () => {
    await Promise.all(Array.from({ length: 3 }, () => writeEntries(database, 4)));
    expect(await verifyAuditChain(database.db)).toEqual({ ok: true, checked: 12 });
  });
});
