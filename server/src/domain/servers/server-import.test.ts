import { createHash } from "node:crypto";
import type { HostFacts } from "@ocore/proto/host-facts.js";
import { asc, count, gt } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import type { Db } from "../../platform/db/database.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { servers } from "../../platform/db/schema/servers.js";
import { systemContext } from "../audit/audit-context.js";
import { verifyAuditChain } from "../audit/verify-audit-chain.js";
import { parseSelector } from "../auth/selector.js";
import { markAgentConnected } from "../presence/server-presence.js";
import { exportServerChunks, exportServers } from "./server-export.js";
import { importServers } from "./server-import.js";
import { listServers } from "./servers.js";

const csv = (text: string) => new TextEncoder().encode(text);
const all = { all: true } as const;
const facts: HostFacts = {
  hostname: "web-2",
  osId: "debian",
  osVersion: "12",
  kernel: "6.1",
  architecture: "x86_64",
  cpuCores: 2,
  memoryTotalBytes: 1,
  bootedAt: null,
};
const auditCount = async (db: Db) => Number((await db.select({ n: count() }).from(auditLog))[0]?.n ?? 0);

// A fresh PGlite takes tens of seconds to open on a loaded machine.
describe.each(databaseKinds)("server import and export on %s", { timeout: 120_000 }, (kind) => {
  let database: TestDatabase;
  afterEach(() => database.close());

  it("reports what a dry run would do and changes nothing; apply then does it", async () => {
    database = await createTestDatabase(kind);
    await database.db.insert(servers).values({ name: "web-1", host: "10.0.0.1", tags: { env: "prod" } });
    const data = csv(
      "name,host,ssh_port,ssh_user,tags\nweb-1,10.0.0.1,22,root,env=staging\nweb-2,10.0.0.2,2222,deploy,env=prod;role=web\n",
    );
    const dry = await importServers(database.db, systemContext(), { format: "csv", data, dryRun: true });
    expect(dry).toMatchObject({ applied: false, created: 1, updated: 1, errorCount: 0 });
    expect(dry.rows.map((row) => [row.row, row.name, row.action])).toEqual([
      [1, "web-1", "update"],
      [2, "web-2", "create"],
    ]);
    expect(await listServers(database.db, all, {})).toHaveLength(1);

    const applied = await importServers(database.db, systemContext(), { format: "csv", data, dryRun: false });
    expect(applied).toMatchObject({ applied: true, created: 1, updated: 1 });
    const rows = await listServers(database.db, all, {});
    expect(rows.map((row) => [row.name, row.sshPort, row.sshUser, row.tags])).toEqual([
      ["web-1", 22, "root", { env: "staging" }],
      ["web-2", 2222, "deploy", { env: "prod", role: "web" }],
    ]);
    const again = await importServers(database.db, systemContext(), { format: "csv", data, dryRun: false });
    expect(again.rows.map((row) => row.action)).toEqual(["unchanged", "unchanged"]);
  });

  it("shows a new imported server pending with what is next; an existing one keeps its status", async () => {
    database = await createTestDatabase(kind);
    await database.db.insert(servers).values({ name: "web-1", host: "10.0.0.1", status: "active" });
    const data = csv("name,host,ssh_port,ssh_user,tags\nweb-1,10.0.0.9,22,root,\nweb-2,10.0.0.2,22,root,\n");
    await importServers(database.db, systemContext(), { format: "csv", data, dryRun: false });
    const rows = await listServers(database.db, all, {});
    expect(rows.map((row) => [row.name, row.status])).toEqual([
      ["web-1", "active"],
      ["web-2", "pending"],
    ]);
    expect(rows[1]?.statusMessage).toMatch(
      /retry provisioning with a password or private key, or install the agent with an enrollment token/,
    );
    expect(await listServers(database.db, all, { statuses: ["pending"] })).toHaveLength(1);

    await markAgentConnected(database.db, rows[1]?.id ?? "", {
      agentVersion: "1.0.0",
      facts,
      now: new Date(),
    });
    expect((await listServers(database.db, all, { statuses: ["active"] })).map((row) => row.name)).toEqual([
      "web-1",
      "web-2",
    ]);
    expect((await listServers(database.db, all, {}))[1]?.statusMessage).toBeNull();
  });

  it("names the row and field of every bad row and writes nothing at all", async () => {
    database = await createTestDatabase(kind);
    const data = csv(
      [
        "name,host,ssh_port,ssh_user,tags",
        "good-1,10.0.0.1,22,root,env=prod",
        "bad name,10.0.0.2,22,root,",
        "bad-port,10.0.0.3,70000,root,",
        "bad-tags,10.0.0.4,22,root,Env=prod",
        "good-1,10.0.0.5,22,root,",
        "no-host,,22,root,",
      ].join("\n"),
    );
    const report = await importServers(database.db, systemContext(), { format: "csv", data, dryRun: false });
    expect(report.applied).toBe(false);
    expect(report.errorCount).toBe(5);
    const errors = Object.fromEntries(
      report.rows.filter((r) => r.action === "error").map((r) => [r.row, r.errors.join(" | ")]),
    );
    expect(errors[2]).toMatch(/^name: /);
    expect(errors[3]).toMatch(/^ssh_port: must be 1-65535/);
    expect(errors[4]).toMatch(/^tags: key "Env" is not allowed: keys are/);
    expect(errors[5]).toMatch(/already appears in row 1/);
    expect(errors[6]).toMatch(/^host: /);
    expect(await listServers(database.db, all, {})).toHaveLength(0);
  });

  it("exports what it imports, in CSV and JSON, without credentials", async () => {
    database = await createTestDatabase(kind);
    const json = JSON.stringify([
      {
        name: "db-1",
        host: "db.example.com",
        ssh_port: 22,
        ssh_user: "root",
        tags: { env: "prod", role: "db" },
      },
    ]);
    await importServers(database.db, systemContext(), { format: "json", data: csv(json), dryRun: false });
    const rows = await listServers(database.db, all, {});
    expect(exportServers(rows, "csv")).toBe(
      "name,host,ssh_port,ssh_user,tags\ndb-1,db.example.com,22,root,env=prod;role=db\n",
    );
    expect(JSON.parse(exportServers(rows, "json"))).toEqual(JSON.parse(json));
  });

  it("streams the same export file in batches, for every batch boundary", async () => {
    database = await createTestDatabase(kind);
    const { db } = database;
    const joined = async (format: "csv" | "json", batch: number, selector?: string) => {
      let file = "";
      for await (const chunk of exportServerChunks(db, all, {
        format,
        batch,
        selector: selector ? parseSelector(selector) : undefined,
      }))
        file += chunk;
      return file;
    };
    for (const format of ["csv", "json"] as const)
      expect(await joined(format, 2)).toBe(exportServers([], format));
    await db
      .insert(servers)
      .values(
        Array.from({ length: 5 }, (_, i) => ({ name: `s-${i}`, host: `h${i}`, tags: { n: String(i % 2) } })),
      );
    const rows = await listServers(db, all, {});
    for (const format of ["csv", "json"] as const) {
      for (const batch of [1, 2, 5, 6]) expect(await joined(format, batch)).toBe(exportServers(rows, format));
    }
    const odd = rows.filter((row) => row.tags.n === "1");
    expect(await joined("json", 1, "n=1")).toBe(exportServers(odd, "json"));
  });

  it("writes thousands of rows in batches with one import entry, and one entry per overwritten server", async () => {
    database = await createTestDatabase(kind);
    const { db } = database;
    await db.insert(servers).values([
      { name: "srv-00001", host: "old.example.com", tags: { env: "old" } },
      { name: "srv-00002", host: "10.0.0.2" },
    ]);
    const lines = Array.from({ length: 4500 }, (_, i) => {
      const n = i + 1;
      return `srv-${String(n).padStart(5, "0")},10.0.${Math.floor(n / 256)}.${n % 256},22,root,${n === 2 ? "" : "env=prod"}`;
    });
    const data = csv(`name,host,ssh_port,ssh_user,tags\n${lines.join("\n")}\n`);
    const before = await auditCount(db);
    const report = await importServers(db, systemContext(), { format: "csv", data, dryRun: false });
    expect(report).toMatchObject({ applied: true, created: 4498, updated: 1, errorCount: 0 });
    expect(report.rows[1]?.action).toBe("unchanged");
    expect((await listServers(db, all, {})).length).toBe(4500);
    const entries = await db.select().from(auditLog).where(gt(auditLog.id, before)).orderBy(asc(auditLog.id));
    expect(entries.map((entry) => entry.action)).toEqual(["server.import", "server.import_update"]);
    expect(JSON.parse(entries[0]?.afterJson ?? "")).toMatchObject({
      rows: 4500,
      created: 4498,
      updated: 1,
      unchanged: 1,
      sha256: createHash("sha256").update(data).digest("hex"),
    });
    expect(JSON.parse(entries[1]?.beforeJson ?? "")).toMatchObject({
      name: "srv-00001",
      host: "old.example.com",
    });
    expect(JSON.parse(entries[1]?.afterJson ?? "")).toMatchObject({ name: "srv-00001", host: "10.0.0.1" });
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  }, 120_000);

  it("refuses files that are not CSV or JSON arrays", async () => {
    database = await createTestDatabase(kind);
    await expect(
      importServers(database.db, systemContext(), { format: "json", data: csv("{}"), dryRun: true }),
    ).rejects.toThrow(/data: must be a JSON array/);
    await expect(
      importServers(database.db, systemContext(), {
        format: "csv",
        data: csv('name,host\n"unterminated,x'),
        dryRun: true,
      }),
    ).rejects.toThrow(/data: is not valid CSV/);
  });
});
