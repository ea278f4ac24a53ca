import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { instances } from "../../platform/db/schema/instances.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { AppError } from "../../platform/errors/app-error.js";
import { parseSelector } from "../auth/selector.js";
import { createDirectoryBackupStore } from "../backups/backup-store.js";
import { createBackupDeps } from "../backups/create-backup-deps.js";
import { createBackgroundTasks } from "./background-tasks.js";
import type { InstanceDeps } from "./instance-deps.js";
import { listInstancePage } from "./instance-page.js";

const logger = pino({ level: "silent" });

describe.each(databaseKinds)("ListInstances pages (%s)", (kind) => {
  let database: TestDatabase;
  let deps: InstanceDeps;
  let prod = "";

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    deps = createBackupDeps({
      db: database.db,
      // Never asked: statesPushed says every server pushes its states, so pages read them as stored.
      runner: { run: () => Promise.reject(new Error("no agent in this test")) } as never,
      store: createDirectoryBackupStore("/nonexistent"),
      tasks: createBackgroundTasks(logger),
      logger,
      images: { odoo: "odoo:17.0", postgres: "postgres:16", mailpit: "axllent/mailpit:v1.21" },
      statesPushed: () => true,
    });
    const [a, b] = await database.db
      .insert(servers)
      .values([
        { name: "prod-1", status: "active", tags: { env: "prod" } },
        { name: "dev-1", status: "active", tags: { env: "dev" } },
      ])
      .returning();
    prod = a?.id ?? "";
    const rows = [];
    for (let i = 0; i < 30; i++) {
      rows.push({
        serverId: i % 2 === 0 ? (a?.id ?? "") : (b?.id ?? ""),
        name: `shop-${String(i).padStart(2, "0")}`,
        state: (i % 3 === 0 ? "failed" : "running") as "failed" | "running",
        odooImage: "odoo:17.0",
        postgresImage: "postgres:16",
        mailpitImage: "axllent/mailpit:v1.21",
        basePort: 20000 + i * 10,
      });
    }
    await database.db.insert(instances).values(rows);
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  async function all(input: Parameters<typeof listInstancePage>[2], scope = { all: true } as const) {
    const names: string[] = [];
    let pageToken = "";
    let total = 0;
    for (let pages = 0; pages < 50; pages++) {
      const page = await listInstancePage(deps, scope, { ...input, pageToken });
      names.push(...page.rows.map((row) => `${row.name}`));
      total = page.totalSize;
      if (!page.nextPageToken) break;
      pageToken = page.nextPageToken;
    }
    return { names, total };
  }

  it("pages by server then name without skipping or repeating, under inserts and deletes", async () => {
    const first = await listInstancePage(deps, { all: true }, { pageSize: 7 });
    expect(first.totalSize).toBe(30);
    expect(first.rows.map((row) => row.name)).toEqual([
      "shop-01",
      "shop-03",
      "shop-05",
      "shop-07",
      "shop-09",
      "shop-11",
      "shop-13",
    ]);
    // A row before the cursor is added and one after it removed: the next page neither repeats nor skips.
    await database.db.insert(instances).values({
      serverId: prod,
      name: "aaa-new",
      odooImage: "odoo:17.0",
      postgresImage: "postgres:16",
      mailpitImage: "axllent/mailpit:v1.21",
      basePort: 29000,
    });
    const rest: string[] = [];
    let token = first.nextPageToken;
    while (token) {
      const page = await listInstancePage(deps, { all: true }, { pageSize: 7, pageToken: token });
      rest.push(...page.rows.map((row) => row.name));
      token = page.nextPageToken;
    }
    expect(new Set([...first.rows.map((row) => row.name), ...rest]).size).toBe(31);
    expect(rest).toContain("aaa-new");
    expect(rest.indexOf("aaa-new")).toBeLessThan(rest.indexOf("shop-02"));
  });

  it("sorts, searches, filters by state, and scopes every page and count", async () => {
    const byName = await all({ orderBy: "name desc", pageSize: 4 });
    expect(byName.names.slice(0, 3)).toEqual(["shop-29", "shop-28", "shop-27"]);
    expect(byName.names.length).toBe(byName.total);
    const failed = await all({ states: ["failed"], pageSize: 3 });
    expect(failed.total).toBe(10);
    expect(failed.names.length).toBe(10);
    const searched = await all({ query: "SHOP-1" });
    expect(searched.names.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `shop-1${i}`));
    const byServer = await all({ query: "dev-" });
    expect(byServer.total).toBe(15);
    const created = await all({ orderBy: "created", pageSize: 5 });
    expect(created.names.length).toBe(created.total);
    const scoped = await all({ pageSize: 4 }, {
      all: false,
      selectors: [parseSelector("env=prod")],
    } as never);
    expect(scoped.total).toBe(16);
    expect(scoped.names.length).toBe(16);
    expect(scoped.names).not.toContain("shop-01");
  });

  it("refuses a tampered or foreign token, an unknown order or state, and a bad page size", async () => {
    const page = await listInstancePage(deps, { all: true }, { pageSize: 2 });
    const [body = "", sum = ""] = page.nextPageToken.split(".");
    const tampered = `${body.slice(0, -2)}AA.${sum}`;
    const refusal = (input: Parameters<typeof listInstancePage>[2]) =>
      listInstancePage(deps, { all: true }, input).then(
        () => "accepted",
        (error: AppError) => `${error.code}: ${error.message}`,
      );
    expect(await refusal({ pageSize: 2, pageToken: tampered })).toMatch(/^invalid_argument: page_token/);
    expect(await refusal({ pageSize: 2, orderBy: "name", pageToken: page.nextPageToken })).toMatch(
      /belongs to another filter, search or order/,
    );
    expect(await refusal({ orderBy: "size" })).toMatch(/^invalid_argument: order_by/);
    expect(await refusal({ states: ["sleeping"] })).toMatch(/^invalid_argument: states/);
    expect(await refusal({ pageSize: 501 })).toMatch(/^invalid_argument: page_size: at most 500/);
    expect(await refusal({ pageSize: -1 })).toMatch(/^invalid_argument: page_size/);
  });
});
