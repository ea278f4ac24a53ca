import { eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { servers } from "../../platform/db/schema/servers.js";
import { parseSelector } from "../auth/selector.js";
import { writeLastSeen } from "../presence/server-presence.js";
import { SERVER_STATUSES } from "../server-status/server-status.js";
import { listServerPage, type ServerPageInput, serverOrders } from "./server-page.js";
import { listServers } from "./servers.js";

const all = { all: true } as const;

/** `count` servers with spread statuses, usage (some null) and last-seen times (some null, some equal). */
async function seed(db: Db, count: number, from = 0): Promise<void> {
  await db.execute(sql`
    insert into servers (name, host, status, tags, cpu_percent, memory_percent, disk_percent, last_seen_at)
    select 'srv-' || lpad(i::text, 6, '0'),
      '10.' || (i / 65536) || '.' || (i / 256 % 256) || '.' || (i % 256),
      (array['active', 'offline', 'failed', 'connecting'])[1 + i % 4],
      jsonb_build_object('env', case when i % 3 = 0 then 'prod' else 'dev' end),
      case when i % 5 = 0 then null else (i * 7 % 100)::real end,
      (i * 13 % 100)::real,
      case when i % 7 = 0 then null else (i % 10)::real end,
      case when i % 6 = 0 then null else '2026-01-01'::timestamptz + ((i % 50) * interval '1.000001 second') end
    from generate_series(${from}::int, ${from + count - 1}::int) as i`);
}

async function allPages(db: Db, input: ServerPageInput, between?: (page: number) => Promise<void>) {
  const names: string[] = [];
  let token = "";
  for (let page = 0; page < 1000; page++) {
    const result = await listServerPage(db, all, { ...input, pageToken: token });
    names.push(...result.rows.map((row) => row.name));
    token = result.nextPageToken;
    if (!token) return names;
    await between?.(page);
  }
  throw new Error("paging did not end");
}

// A fresh PGlite takes tens of seconds to open on a loaded machine.
describe.each(databaseKinds)("server pages on %s", { timeout: 120_000 }, (kind) => {
  let database: TestDatabase;
  afterEach(() => database.close());

  it("pages every order in both directions without skipping or repeating, while servers come and go", async () => {
    database = await createTestDatabase(kind);
    const { db } = database;
    await seed(db, 60);
    for (const order of serverOrders) {
      for (const direction of ["", " desc"]) {
        const orderBy = `${order}${direction}`;
        const full = (await listServerPage(db, all, { orderBy, pageSize: 500 })).rows.map((row) => row.name);
        expect(full).toHaveLength(60);
        expect(await allPages(db, { orderBy, pageSize: 7 })).toEqual(full);

        // Between pages: add servers and delete others. Every server present from start to end
        // appears exactly once; the deleted never after their deletion.
        const added: string[] = [];
        const deleted: string[] = [];
        const seen = await allPages(db, { orderBy, pageSize: 7 }, async (page) => {
          const name = `new-${orderBy}-${page}`;
          added.push(name);
          await db
            .insert(servers)
            .values({ name, host: "h", status: "active", cpuPercent: (page * 37) % 100 });
          const victim = full[(page * 11) % full.length] as string;
          if (!deleted.includes(victim)) {
            deleted.push(victim);
            await db.delete(servers).where(eq(servers.name, victim));
          }
        });
        expect(new Set(seen).size).toBe(seen.length);
        for (const name of full.filter((n) => !deleted.includes(n))) expect(seen).toContain(name);
        await db.delete(servers).where(sql`${servers.name} like 'new-%'`);
        // Put the deleted back for the next order.
        for (const name of deleted) {
          const i = Number(name.slice(4));
          await seed(db, 1, i);
        }
      }
    }
  }, 120_000);

  it("orders by each key with nulls first ascending, names breaking ties", async () => {
    database = await createTestDatabase(kind);
    await seed(database.db, 40);
    const page = await listServerPage(database.db, all, { orderBy: "cpu desc", pageSize: 40 });
    const keys = page.rows.map((row) => [row.cpuPercent ?? -1, row.name] as const);
    const sorted = [...keys].sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? 1 : -1));
    expect(keys).toEqual(sorted);
    const seen = await listServerPage(database.db, all, { orderBy: "last_seen", pageSize: 10 });
    expect(seen.rows.slice(0, 7).every((row) => row.lastSeenAt === null)).toBe(true);
  });

  it("sorts by the usage the gateway's last-seen write carries, keeping it when a write has none", async () => {
    database = await createTestDatabase(kind);
    const { db } = database;
    const rows = await db
      .insert(servers)
      .values([{ name: "a" }, { name: "b" }, { name: "c" }])
      .returning();
    const [a, b, c] = rows.map((row) => row.id) as [string, string, string];
    const at = new Date("2026-01-01T00:00:00Z");
    const usage = (cpu: number, memory: number | null) => ({
      collectedAt: at,
      cpuPercent: cpu,
      memoryPercent: memory,
      diskPercent: 50,
    });
    await writeLastSeen(db, [
      { serverId: a, at, usage: usage(10, 90) },
      { serverId: b, at, usage: usage(80, null) },
      { serverId: c, at },
    ]);
    await writeLastSeen(db, [{ serverId: b, at: new Date(at.getTime() + 1000) }]);
    const names = async (orderBy: string) =>
      (await listServerPage(db, all, { orderBy })).rows.map((row) => row.name);
    expect(await names("cpu desc")).toEqual(["b", "a", "c"]);
    expect(await names("memory desc")).toEqual(["a", "c", "b"]);
    expect(await names("last_seen desc")).toEqual(["b", "c", "a"]);
  });

  it("searches name and host, counts per status for the filter, and keeps the caller's scope", async () => {
    database = await createTestDatabase(kind);
    const { db } = database;
    await seed(db, 200);
    await db.insert(servers).values({ name: "odd_100%", host: "db.example.com", status: "active" });

    const search = await listServerPage(db, all, { query: "SRV-0001", pageSize: 500 });
    expect(search.rows.map((row) => row.name)).toEqual(
      Array.from({ length: 100 }, (_, i) => `srv-${String(100 + i).padStart(6, "0")}`),
    );
    expect((await listServerPage(db, all, { query: "example.COM" })).rows.map((r) => r.name)).toEqual([
      "odd_100%",
    ]);
    // % and _ are matched literally.
    expect((await listServerPage(db, all, { query: "_100%" })).rows.map((r) => r.name)).toEqual(["odd_100%"]);
    expect((await listServerPage(db, all, { query: "10.0.0." })).totalSize).toBe(200);

    const selector = parseSelector("env=prod");
    const filtered = await listServerPage(db, all, { selector, statuses: ["active", "failed"], pageSize: 3 });
    const everyMatch = await listServers(db, all, { selector });
    for (const status of SERVER_STATUSES) {
      expect(filtered.statusCounts[status]).toBe(everyMatch.filter((row) => row.status === status).length);
    }
    expect(filtered.totalSize).toBe(
      everyMatch.filter((row) => ["active", "failed"].includes(row.status)).length,
    );
    expect(filtered.rows).toHaveLength(3);

    const scope = { all: false, selectors: [parseSelector("env=dev")] };
    const scoped = await listServerPage(db, scope, { pageSize: 500 });
    const devCount = (await listServers(db, all, { selector: parseSelector("env=dev") })).length;
    expect(scoped.rows.every((row) => row.tags.env === "dev")).toBe(true);
    expect(scoped.totalSize).toBe(devCount);
    expect(Object.values(scoped.statusCounts).reduce((a, b) => a + b, 0)).toBe(devCount);
    // Paging through a scope sees only that scope.
    let token = "";
    const names: string[] = [];
    do {
      const page = await listServerPage(db, scope, { pageSize: 50, pageToken: token });
      names.push(...page.rows.map((row) => row.name));
      token = page.nextPageToken;
    } while (token);
    expect(names).toHaveLength(devCount);
    expect(await listServerPage(db, { all: false, selectors: [] }, {})).toMatchObject({
      rows: [],
      totalSize: 0,
    });
  });

  it("refuses bad page sizes, orders, and altered or foreign page tokens", async () => {
    database = await createTestDatabase(kind);
    const { db } = database;
    await seed(db, 10);
    const first = await listServerPage(db, all, { pageSize: 3, orderBy: "cpu" });
    expect(first.nextPageToken).not.toBe("");
    const refuse = (input: ServerPageInput, message: RegExp) =>
      expect(listServerPage(db, all, input)).rejects.toMatchObject({ code: "invalid_argument", message });

    await refuse({ pageSize: -1 }, /^page_size: /);
    await refuse({ pageSize: 501 }, /^page_size: at most 500/);
    await refuse({ orderBy: "nonsense" }, /^order_by: /);
    await refuse({ orderBy: "cpu sideways" }, /^order_by: /);
    await refuse({ statuses: ["sleeping"] }, /^statuses: /);
    await refuse({ query: "x".repeat(201) }, /^query: /);
    await refuse({ orderBy: "cpu", pageToken: "garbage" }, /^page_token: is malformed/);
    const [body, sum] = first.nextPageToken.split(".") as [string, string];
    const payload = JSON.parse(Buffer.from(body, "base64url").toString());
    const edited = Buffer.from(JSON.stringify({ ...payload, n: "srv-000000" })).toString("base64url");
    await refuse({ orderBy: "cpu", pageToken: `${edited}.${sum}` }, /^page_token: was altered/);
    await refuse({ orderBy: "cpu", pageToken: `${body}.${sum.slice(1)}x` }, /^page_token: was altered/);
    await refuse({ orderBy: "memory", pageToken: first.nextPageToken }, /another filter, search or order/);
    await refuse({ orderBy: "cpu", query: "srv", pageToken: first.nextPageToken }, /another filter/);
    const next = await listServerPage(db, all, {
      pageSize: 3,
      orderBy: "cpu",
      pageToken: first.nextPageToken,
    });
    expect(next.rows).toHaveLength(3);
  });
});

describe("server page plans on PostgreSQL", () => {
  let database: TestDatabase;
  afterEach(() => database.close());

  it("reads a page from the matching index, never sorting the whole table", async () => {
    database = await createTestDatabase("postgres");
    const { db } = database;
    await seed(db, 20_000);
    await db.execute(sql`analyze servers`);
    const plans: Record<string, string> = {};
    const explain = async (label: string, input: ServerPageInput) => {
      // The statement listServerPage sends, captured and explained with the same parameters.
      const statements: { sql: string; params: unknown[] }[] = [];
      const proxy = new Proxy(db, {
        get(target, key, receiver) {
          if (key !== "select") return Reflect.get(target, key, receiver);
          return (...args: unknown[]) => {
            const builder = (target.select as (...a: unknown[]) => unknown)(...args);
            return capture(builder, statements);
          };
        },
      });
      await listServerPage(proxy as Db, all, input);
      const page = statements.find((statement) => / limit /i.test(statement.sql));
      if (!page) throw new Error("no statement captured");
      const result = await db.execute(sql.raw(`explain ${inline(page.sql, page.params)}`));
      plans[label] = rowsOf<{ "QUERY PLAN": string }>(result)
        .map((row) => row["QUERY PLAN"])
        .join("\n");
    };
    // A rare tag (10 servers of 20,000).
    await db.execute(sql`update servers set tags = tags || '{"role": "db"}' where name like 'srv-00123%'`);
    await db.execute(sql`analyze servers`);
    const first = await listServerPage(db, all, { orderBy: "cpu desc", pageSize: 50 });
    await explain("rare tag", { selector: parseSelector("role=db"), orderBy: "cpu desc", pageSize: 50 });
    await explain("rare in", {
      selector: parseSelector("role in (db,cache)"),
      orderBy: "cpu desc",
      pageSize: 50,
    });
    await explain("rare key", { selector: parseSelector("role"), orderBy: "cpu desc", pageSize: 50 });
    await explain("name", { pageSize: 50 });
    await explain("status", { orderBy: "status", pageSize: 50 });
    await explain("last_seen", { orderBy: "last_seen desc", pageSize: 50 });
    await explain("cpu next page", { orderBy: "cpu desc", pageSize: 50, pageToken: first.nextPageToken });
    await explain("memory", { orderBy: "memory", pageSize: 50 });
    await explain("disk", { orderBy: "disk desc", pageSize: 50 });
    await explain("search", { query: "srv-0123", pageSize: 50 });
    await explain("rare search", { query: "10.1.2.3", orderBy: "cpu desc", pageSize: 50 });
    expect(plans.name).toMatch(/Index Scan using servers_name_unique/);
    expect(plans.status).toMatch(/Index Scan using servers_status_name/);
    expect(plans.last_seen).toMatch(/Index Scan Backward using servers_last_seen_name/);
    expect(plans["cpu next page"]).toMatch(/Index Scan Backward using servers_cpu_name/);
    expect(plans["cpu next page"]).toMatch(/Index Cond/);
    expect(plans.memory).toMatch(/Index Scan using servers_memory_name/);
    expect(plans.disk).toMatch(/Index Scan Backward using servers_disk_name/);
    // A common match walks the name index until the page is full; a rare one goes through the
    // trigram indexes instead of reading every row.
    expect(plans.search).toMatch(/Index Scan using servers_name_unique/);
    expect(plans["rare search"]).toMatch(/Bitmap Index Scan on servers_host_trgm/);
    expect(plans["rare search"]).not.toMatch(/Seq Scan/);
    // A rare tag goes through the GIN index on tags (jsonb containment), not every row.
    expect(plans["rare tag"]).toMatch(/Bitmap Index Scan on servers_tags/);
    expect(plans["rare tag"]).not.toMatch(/Seq Scan/);
    // So do `key in (…)` (one containment per value, ORed) and `key` (jsonb's key-exists operator).
    expect(plans["rare in"]).toMatch(/Bitmap Index Scan on servers_tags/);
    expect(plans["rare in"]).not.toMatch(/Seq Scan/);
    expect(plans["rare key"]).toMatch(/Bitmap Index Scan on servers_tags/);
    expect(plans["rare key"]).not.toMatch(/Seq Scan/);
    for (const plan of ["name", "status", "last_seen", "cpu next page", "memory", "disk"].map(
      (l) => plans[l],
    ))
      expect(plan).not.toMatch(/Sort|Seq Scan/);
  });
});

/** Wraps a drizzle builder so its SQL is recorded when it runs. */
function capture(builder: unknown, statements: { sql: string; params: unknown[] }[]): unknown {
  return new Proxy(builder as object, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key === "then") {
        const query = (target as { toSQL(): { sql: string; params: unknown[] } }).toSQL();
        statements.push(query);
        return (value as (...a: unknown[]) => unknown).bind(target);
      }
      if (typeof value !== "function") return value;
      return (...args: unknown[]) =>
        capture((value as (...a: unknown[]) => unknown).apply(target, args), statements);
    },
  });
}

/** The statement with its parameters written in as literals (for EXPLAIN, which takes no parameters). */
function inline(text: string, params: unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, index: string) => {
    const value = params[Number(index) - 1];
    if (typeof value === "number") return String(value);
    return `'${String(value).replaceAll("'", "''")}'`;
  });
}
