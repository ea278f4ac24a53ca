// "Select all matching, then act" at fleet scale: UpdateMatchingServers' use case on N servers
// seeded in SQL, on PGlite and PostgreSQL. Per case: the dry-run counts a console shows before
// confirming (no filter, a selector, a search), then tag changes on a third of the fleet and on all
// of it (set, then remove), each timed, with the audit entries written, and the p95/max latency of
// a ListServers page of 50 read five times a second meanwhile (batches keep the fleet page usable during a change).
// Run with `npm run bench:bulk`; arguments pick cases, e.g. `-- pglite:100000 postgres:100000`.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  createDatabase,
  listServerPage,
  parseSelector,
  rowsOf,
  updateMatchingServers,
} from "@ocore/server/testing";
import { startCluster } from "@ocore/server/testing/postgres-cluster";

type Kind = "pglite" | "postgres";
const all = { all: true } as const;
const context = {
  actor: { type: "user" as const, id: "", name: "bench" },
  sourceIp: "127.0.0.1",
  userAgent: "bench",
};
const round1 = (value: number) => Math.round(value * 10) / 10;
const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

const SEED = (count: number) => `
  insert into servers (name, host, status, tags, cpu_percent)
  select 'srv-' || lpad(i::text, 6, '0'), '10.' || (i / 65536) || '.' || (i / 256 % 256) || '.' || (i % 256),
    (array['active','active','active','active','offline','failed','connecting'])[1 + i % 7],
    jsonb_build_object('env', case when i % 3 = 0 then 'prod' else 'staging' end,
      'role', (array['web','worker','db','cache','batch'])[1 + i % 5]),
    (i * 7 % 100)::real
  from generate_series(0, ${count - 1}) as i`;

async function measure(kind: Kind, count: number) {
  const cluster = kind === "postgres" ? await startCluster() : undefined;
  const database =
    kind === "postgres"
      ? createDatabase({ kind, url: cluster?.url ?? "", poolSize: 4 })
      : createDatabase({ kind });
  const { sql } = await import("drizzle-orm");
  try {
    await database.migrate();
    const seeded = performance.now();
    await database.db.execute(sql.raw(SEED(count)));
    await database.db.execute(sql.raw("analyze servers"));
    process.stdout.write(`${kind} ${count}: seeded in ${Math.round(performance.now() - seeded)} ms\n`);
    const db = database.db;
    const timed = async <T>(run: () => Promise<T>) => {
      const started = performance.now();
      const value = await run();
      return { ms: round1(performance.now() - started), value };
    };

    const counts: Record<string, { ms: number; matched: number }> = {};
    const dryRuns = {
      "no filter": {},
      "selector env=prod": { selector: parseSelector("env=prod") },
      "selector env=prod,role=db + status active": {
        selector: parseSelector("env=prod,role=db"),
        statuses: ["active"],
      },
      "search '10.0.3.'": { query: "10.0.3." },
    };
    for (const [name, filter] of Object.entries(dryRuns)) {
      const times: number[] = [];
      let matched = 0;
      for (let run = 0; run < 8; run++) {
        const { ms, value } = await timed(() =>
          updateMatchingServers(db, context, all, {
            filter,
            setTags: {},
            removeTags: [],
            dryRun: true,
            expectedCount: 0,
          }),
        );
        if (run >= 3) times.push(ms);
        matched = value.matched;
      }
      counts[name] = { ms: round1(percentile(times, 50)), matched };
      process.stdout.write(`  dry run, ${name.padEnd(44)} ${counts[name].ms} ms (${matched})\n`);
    }

    const changes = {
      "set tier=gold on env=prod": {
        filter: { selector: parseSelector("env=prod") },
        setTags: { tier: "gold" },
        removeTags: [],
      },
      "set owner=ops on all": { filter: {}, setTags: { owner: "ops" }, removeTags: [] },
      "remove owner, tier on all": { filter: {}, setTags: {}, removeTags: ["owner", "tier"] },
    };
    const applied: Record<string, unknown> = {};
    for (const [name, change] of Object.entries(changes)) {
      const { matched } = await updateMatchingServers(db, context, all, {
        ...change,
        dryRun: true,
        expectedCount: 0,
      });
      const before = Number(
        rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from audit_log`))[0]?.n,
      );
      // A fleet page read in a loop while the change runs: what an operator's console waits for.
      let running = true;
      const pageTimes: number[] = [];
      const reader = (async () => {
        while (running) {
          const started = performance.now();
          await listServerPage(db, all, { orderBy: "cpu desc", pageSize: 50 });
          pageTimes.push(performance.now() - started);
          // Five pages a second, as a few consoles following the fleet would: a reader flat out
          // would take the 2 cores from the change it measures.
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })();
      const { ms, value } = await timed(() =>
        updateMatchingServers(db, context, all, { ...change, dryRun: false, expectedCount: matched }),
      );
      running = false;
      await reader;
      const after = Number(
        rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from audit_log`))[0]?.n,
      );
      applied[name] = {
        ms,
        serversPerSecond: Math.round(value.updated / (ms / 1000)),
        matched,
        updated: value.updated,
        auditEntries: after - before,
        pageDuringP95Ms: round1(percentile(pageTimes, 95)),
        pageDuringMaxMs: round1(Math.max(...pageTimes)),
        pagesRead: pageTimes.length,
      };
      process.stdout.write(
        `  ${name.padEnd(28)} ${ms} ms, ${value.updated} updated (${Math.round(value.updated / (ms / 1000))}/s), ${after - before} audit entries; page of 50 meanwhile p95 ${round1(percentile(pageTimes, 95))} ms, max ${round1(Math.max(...pageTimes))} ms (${pageTimes.length} pages)\n`,
      );
    }
    return { kind, count, dryRuns: counts, changes: applied };
  } finally {
    await database.close();
    await cluster?.stop();
  }
}

const args = process.argv.slice(2);
const cases = (args.length ? args : ["pglite:10000", "pglite:100000", "postgres:100000"]).map((spec) => {
  const [kind, count] = spec.split(":");
  if ((kind !== "pglite" && kind !== "postgres") || !Number(count)) throw new Error(`bad case "${spec}"`);
  return { kind: kind as Kind, count: Number(count) };
});
const measured = [];
for (const { kind, count } of cases) measured.push(await measure(kind, count));
const out = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, load ${os.loadavg().map(round1).join(" ")}`,
  measured,
};
const results = new URL("results/", import.meta.url).pathname;
mkdirSync(results, { recursive: true });
const file = path.join(results, `bulk-tags-${Date.now()}.json`);
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`results: ${file}\n`);
