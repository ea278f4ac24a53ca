import { asc, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { servers } from "../../platform/db/schema/servers.js";
import { systemContext } from "../audit/audit-context.js";
import type { Scope } from "../auth/principal.js";
import { parseSelector } from "../auth/selector.js";
import { type UpdateMatchingInput, updateMatchingServers } from "./update-matching-servers.js";

const all: Scope = { all: true };

/** 40 servers: env prod for every 2nd, status active/offline alternating by 4, hosts 10.0.0.i. */
async function seed(db: Db): Promise<void> {
  await db.execute(sql`
    insert into servers (name, host, status, tags)
    select 'srv-' || lpad(i::text, 3, '0'), '10.0.0.' || i,
      case when i % 4 < 2 then 'active' else 'offline' end,
      jsonb_build_object('env', case when i % 2 = 0 then 'prod' else 'dev' end, 'n', i::text)
    from generate_series(0, 39) as i`);
}

const tagsByName = async (db: Db) =>
  Object.fromEntries(
    (
      await db.select({ name: servers.name, tags: servers.tags }).from(servers).orderBy(asc(servers.name))
    ).map((row) => [row.name, row.tags]),
  );

const bulkEntries = async (db: Db) =>
  rowsOf<{ target_id: string; before_json: string; after_json: string; detail: string }>(
    await db.execute(
      sql`select target_id, before_json, after_json, detail from audit_log where action = 'server.bulk_update' order by id`,
    ),
  );

const input = (overrides: Partial<UpdateMatchingInput>): UpdateMatchingInput => ({
  filter: {},
  setTags: {},
  removeTags: [],
  dryRun: false,
  expectedCount: 0,
  ...overrides,
});

describe.each(databaseKinds)("tagging every server matching a filter on %s", { timeout: 120_000 }, (kind) => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await createTestDatabase(kind);
    await seed(database.db);
  });
  afterEach(() => database.close());

  it("changes exactly the matching servers, in audited batches, after a dry run counted them", async () => {
    const { db } = database;
    const filter = { selector: parseSelector("env=prod"), statuses: ["active"], query: "srv-0" };
    // srv-000 … srv-039 with env=prod (even) and active (i % 4 < 2): 0, 4, 8, …, 36 → 10 servers.
    const counted = await updateMatchingServers(db, systemContext(), all, input({ filter, dryRun: true }));
    expect(counted).toMatchObject({ matched: 10, updated: 0, operationId: "" });
    expect(await bulkEntries(db)).toEqual([]);

    const before = await tagsByName(db);
    const result = await updateMatchingServers(
      db,
      systemContext(),
      all,
      input({ filter, setTags: { tier: "gold" }, removeTags: ["n"], expectedCount: 10, batchSize: 4 }),
    );
    expect(result).toMatchObject({ matched: 10, updated: 10, unchanged: 0, skippedOutOfScope: 0 });
    const after = await tagsByName(db);
    const changed = Object.keys(after).filter(
      (name) => JSON.stringify(after[name]) !== JSON.stringify(before[name]),
    );
    expect(changed).toEqual(Array.from({ length: 10 }, (_, k) => `srv-${String(k * 4).padStart(3, "0")}`));
    expect(after["srv-004"]).toEqual({ env: "prod", tier: "gold" });
    expect(after["srv-002"]).toEqual(before["srv-002"]);

    // Batches of 4: three entries of one operation, naming every changed server once, with its old tags.
    const entries = await bulkEntries(db);
    expect(entries.map((entry) => entry.target_id)).toEqual(Array(3).fill(result.operationId));
    const ids = entries.flatMap((entry) => JSON.parse(entry.after_json).ids as string[]);
    expect(new Set(ids).size).toBe(10);
    // Before: only what the change overwrote or removed, per server (enough to undo it).
    const overwritten = JSON.parse(entries[0]?.before_json ?? "{}").tags as Record<string, { n: string }>;
    expect(Object.keys(overwritten)).toHaveLength(4);
    expect(Object.values(overwritten).sort((a, b) => Number(a.n) - Number(b.n))).toEqual(
      ["0", "4", "8", "12"].map((n) => ({ tier: null, n })),
    );
    expect(entries.map((entry) => entry.detail)).toEqual([
      "batch 1: 4 servers updated of 10 matching",
      "batch 2: 4 servers updated of 10 matching",
      "batch 3: 2 servers updated of 10 matching",
    ]);

    // The same change again finds nothing to do and records nothing.
    const again = await updateMatchingServers(
      db,
      systemContext(),
      all,
      input({ filter, setTags: { tier: "gold" }, removeTags: ["n"], expectedCount: 10, batchSize: 4 }),
    );
    expect(again).toMatchObject({ matched: 10, updated: 0, unchanged: 10 });
    expect(await bulkEntries(db)).toHaveLength(3);
  });

  it("reaches every server even when the change takes them out of the filter", async () => {
    const { db } = database;
    const filter = { selector: parseSelector("env=prod") };
    const result = await updateMatchingServers(
      db,
      systemContext(),
      all,
      input({ filter, setTags: { env: "staging" }, expectedCount: 20, batchSize: 3 }),
    );
    expect(result).toMatchObject({ matched: 20, updated: 20 });
    const tags = Object.values(await tagsByName(db));
    expect(tags.filter((t) => t.env === "staging")).toHaveLength(20);
    expect(tags.filter((t) => t.env === "prod")).toHaveLength(0);
  });

  it("refuses to touch more servers than were confirmed, and a change without a confirmation", async () => {
    const { db } = database;
    const filter = { selector: parseSelector("env=prod") };
    await expect(
      updateMatchingServers(
        db,
        systemContext(),
        all,
        input({ filter, setTags: { a: "b" }, expectedCount: 19 }),
      ),
    ).rejects.toMatchObject({
      code: "failed_precondition",
      message: expect.stringMatching(/matches 20 servers/),
    });
    await expect(
      updateMatchingServers(db, systemContext(), all, input({ filter, setTags: { a: "b" } })),
    ).rejects.toMatchObject({ code: "invalid_argument", field: "expected_count" });
    await expect(
      updateMatchingServers(db, systemContext(), all, input({ filter, expectedCount: 20 })),
    ).rejects.toMatchObject({ code: "invalid_argument", field: "set_tags" });
    await expect(
      updateMatchingServers(
        db,
        systemContext(),
        all,
        input({ filter, setTags: { a: "b" }, removeTags: ["a"], expectedCount: 20 }),
      ),
    ).rejects.toMatchObject({ code: "invalid_argument", field: "remove_tags" });
    await expect(
      updateMatchingServers(
        db,
        systemContext(),
        all,
        input({ filter: { statuses: ["asleep"] }, dryRun: true }),
      ),
    ).rejects.toMatchObject({ code: "invalid_argument", field: "filter.statuses" });
    expect(Object.values(await tagsByName(db)).filter((t) => t.a)).toHaveLength(0);
    expect(await bulkEntries(db)).toEqual([]);
  });

  it("takes ticked ids as the target, within the rest of the filter, and refuses what is not an id", async () => {
    const { db } = database;
    const ids = (
      await db
        .select({ id: servers.id })
        .from(servers)
        .where(sql`${servers.name} in ('srv-000', 'srv-001', 'srv-002')`)
    ).map((row) => row.id);
    const filter = { ids, selector: parseSelector("env=prod") }; // srv-001 is dev
    expect(
      (await updateMatchingServers(db, systemContext(), all, input({ filter, dryRun: true }))).matched,
    ).toBe(2);
    await updateMatchingServers(
      db,
      systemContext(),
      all,
      input({ filter, setTags: { picked: "yes" }, expectedCount: 2 }),
    );
    const tags = await tagsByName(db);
    expect(Object.keys(tags).filter((name) => tags[name]?.picked === "yes")).toEqual(["srv-000", "srv-002"]);
    await expect(
      updateMatchingServers(db, systemContext(), all, input({ filter: { ids: ["srv-000"] }, dryRun: true })),
    ).rejects.toMatchObject({ code: "invalid_argument", field: "filter.ids" });
  });

  it("changes only servers in the caller's scope and never moves one out of it", async () => {
    const { db } = database;
    const prodOnly: Scope = { all: false, selectors: [parseSelector("env=prod")] };
    expect(
      (await updateMatchingServers(db, systemContext(), prodOnly, input({ dryRun: true }))).matched,
    ).toBe(20);
    const tagged = await updateMatchingServers(
      db,
      systemContext(),
      prodOnly,
      input({ setTags: { owner: "ops" }, expectedCount: 20 }),
    );
    expect(tagged).toMatchObject({ matched: 20, updated: 20 });
    const tags = await tagsByName(db);
    expect(Object.values(tags).filter((t) => t.owner === "ops" && t.env === "prod")).toHaveLength(20);
    expect(Object.values(tags).filter((t) => t.owner === "ops" && t.env !== "prod")).toHaveLength(0);

    const untagging = await updateMatchingServers(
      db,
      systemContext(),
      prodOnly,
      input({ removeTags: ["env"], expectedCount: 20 }),
    );
    expect(untagging).toMatchObject({ matched: 20, updated: 0, skippedOutOfScope: 20 });
    expect(Object.values(await tagsByName(db)).filter((t) => t.env === "prod")).toHaveLength(20);
  });
});
