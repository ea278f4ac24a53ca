import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { servers } from "../../platform/db/schema/servers.js";
import { matchesSelector, parseSelector } from "./selector.js";
import { selectorCondition } from "./selector-sql.js";

const fleet: Record<string, Record<string, string>> = {
  a: { env: "prod", role: "web" },
  b: { env: "prod", role: "worker", backup: "daily" },
  c: { env: "staging", role: "web", decommissioned: "" },
  e: { "example.com/tier": "front-1", env: "" },
  d: {},
};

describe.each(databaseKinds)("selectors in SQL on %s agree with the in-memory matcher", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await database.db.insert(servers).values(Object.entries(fleet).map(([name, tags]) => ({ name, tags })));
  });
  afterAll(() => database.close());

  it.each([
    "env=prod",
    "env!=prod",
    "role in (web,worker)",
    "role notin (web)",
    "!decommissioned",
    "backup",
    "env=prod,role=web",
    "env in (prod,staging),!backup",
    "example.com/tier in (front-1,back)",
    "example.com/tier",
    "",
  ])("%j", async (source) => {
    const selector = parseSelector(source);
    const rows = await database.db
      .select({ name: servers.name })
      .from(servers)
      .where(selectorCondition(servers.tags, selector));
    const expected = Object.entries(fleet)
      .filter(([, tags]) => matchesSelector(selector, tags))
      .map(([name]) => name);
    expect(rows.map((row) => row.name).sort()).toEqual(expected.sort());
  });
});
