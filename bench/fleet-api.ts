// The fleet API at 10,000 and 100,000 servers: ImportServers of an N-row CSV, then ListServers
// pages of 50 under every sort and the common filters, through the built server's Connect API
// over loopback (JSON, as the console calls it). Run with `npm run bench:fleet-api` (it builds the
// server first); arguments pick the cases, e.g. `-- pglite:10000 postgres:10000 postgres:100000`.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { startCluster } from "../server/test/support/postgres-cluster.ts";
import { firstAdminPassword } from "./first-admin-password.ts";

const root = new URL("..", import.meta.url).pathname;
const runs = Math.max(10, Number(process.env.BENCH_RUNS ?? 30));
const PASSWORD = "correct horse battery staple";

interface Server {
  readonly url: string;
  readonly stderr: () => string;
  stop(): Promise<void>;
}

function startServer(env: Record<string, string>): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, [path.join(root, "server/dist/main.js")], {
    env: {
      PATH: process.env.PATH,
      OCORE_HTTP_ADDR: "127.0.0.1:0",
      OCORE_AGENT_ADDR: "127.0.0.1:0",
      OCORE_SSH_LISTEN_ADDR: "127.0.0.1:0",
      OCORE_CONSOLE: "off",
      OCORE_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}:\n${stderr}`)));
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /is running: open (\S+)/.exec(stderr)?.[1];
      if (!url) return;
      resolve({
        url,
        stderr: () => stderr,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.removeAllListeners("exit");
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
  });
}

/** A signed-in API session: cookies kept by hand, the CSRF cookie echoed as the console does. */
class Session {
  private cookies = new Map<string, string>();
  base: string;
  constructor(base: string) {
    this.base = base;
  }

  async call<T>(method: string, body: unknown): Promise<T> {
    const csrf = this.cookies.get("ocore_csrf");
    const response = await fetch(new URL(`/ocore.api.v1.${method}`, this.base), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        cookie: [...this.cookies].map(([key, value]) => `${key}=${value}`).join("; "),
        ...(csrf ? { "x-ocore-csrf": csrf } : {}),
      },
      body: JSON.stringify(body),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const at = pair.indexOf("=");
      this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const answer = (await response.json()) as T;
    if (!response.ok) throw new Error(`${method} answered ${response.status}: ${JSON.stringify(answer)}`);
    return answer;
  }

  async signIn(dataDir: string, first: boolean): Promise<void> {
    const oneTime = first ? firstAdminPassword(dataDir) : undefined;
    await this.call("AuthService/Login", { username: "admin", password: first ? oneTime : PASSWORD });
    if (first) {
      await this.call("AuthService/ChangePassword", { currentPassword: oneTime, newPassword: PASSWORD });
    }
  }
}

function csvOf(count: number): string {
  const lines = ["name,host,ssh_port,ssh_user,tags"];
  for (let i = 0; i < count; i++) {
    const env = i % 3 === 0 ? "prod" : "staging";
    const role = ["web", "worker", "db", "cache", "batch"][i % 5];
    lines.push(
      `srv-${String(i).padStart(6, "0")},10.${i >> 16}.${(i >> 8) & 255}.${i & 255},22,root,env=${env};role=${role}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Spreads statuses, last-seen times and usage, as a live fleet has them (imports leave them empty). */
const SPREAD = `
  update servers set
    status = (array['active','active','active','active','offline','failed','connecting'])[1 + (abs(hashtext(name)) % 7)],
    last_seen_at = now() - (abs(hashtext(name || 'seen')) % 86400) * interval '1 second',
    cpu_percent = (abs(hashtext(name || 'cpu')) % 10000) / 100.0,
    memory_percent = (abs(hashtext(name || 'mem')) % 10000) / 100.0,
    disk_percent = (abs(hashtext(name || 'disk')) % 10000) / 100.0`;

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const round1 = (value: number) => Math.round(value * 10) / 10;

const listCases: Record<string, Record<string, unknown>> = {
  "name, first page": {},
  "name, page 2 (token)": { next: true },
  "name desc": { orderBy: "name desc" },
  status: { orderBy: "status" },
  "last_seen desc": { orderBy: "last_seen desc" },
  "cpu desc": { orderBy: "cpu desc" },
  "cpu desc, page 2": { orderBy: "cpu desc", next: true },
  "memory desc": { orderBy: "memory desc" },
  "disk desc": { orderBy: "disk desc" },
  "status=failed": { statuses: ["failed"] },
  "status=failed, cpu desc": { statuses: ["failed"], orderBy: "cpu desc" },
  "selector env=prod": { selector: "env=prod" },
  "selector env=prod,role=db, disk desc": { selector: "env=prod,role=db", orderBy: "disk desc" },
  "search 'srv-0042'": { query: "srv-0042" },
  "search host '10.0.3.'": { query: "10.0.3." },
  "search, no match": { query: "no-such-host" },
};

async function measureCase(kind: "pglite" | "postgres", count: number) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocore-bench-fleet-api-"));
  const cluster = kind === "postgres" ? await startCluster() : undefined;
  const env: Record<string, string> = {
    OCORE_DATA_DIR: dataDir,
    ...(cluster ? { DATABASE_URL: cluster.url } : {}),
  };
  try {
    let server = await startServer(env);
    const session = new Session(server.url);
    await session.signIn(dataDir, true);

    const data = Buffer.from(csvOf(count)).toString("base64");
    const importStarted = performance.now();
    const report = await session.call<{ created?: number; applied?: boolean }>(
      "ServerService/ImportServers",
      {
        format: "DATA_FORMAT_CSV",
        data,
      },
    );
    const importMs = performance.now() - importStarted;
    if (!report.applied || report.created !== count)
      throw new Error(`import: ${JSON.stringify(report).slice(0, 300)}`);
    process.stdout.write(`${kind} ${count}: import ${Math.round(importMs)} ms\n`);

    // Spread statuses and usage directly in the database (the server is stopped for PGlite,
    // which one process holds at a time).
    if (cluster) {
      const sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
      await sql.unsafe(SPREAD);
      await sql.unsafe("analyze servers");
      await sql.end();
    } else {
      await server.stop();
      const { createDatabase } = await import(path.join(root, "server/dist/platform/db/database.js"));
      const database = createDatabase({ kind: "pglite", dir: path.join(dataDir, "pglite") });
      const { sql } = await import("drizzle-orm");
      await database.db.execute(sql.raw(SPREAD));
      await database.db.execute(sql.raw("analyze servers"));
      await database.close();
      server = await startServer(env);
      session.base = server.url;
      await session.signIn(dataDir, false);
    }

    const results: Record<string, { p50: number; p95: number; max: number; rows: number; total: number }> =
      {};
    const everything: number[] = [];
    for (const [name, spec] of Object.entries(listCases)) {
      const { next, ...filter } = spec as { next?: boolean };
      const request = { ...filter, pageSize: 50 };
      let pageToken: string | undefined;
      if (next) {
        pageToken = (await session.call<{ nextPageToken?: string }>("ServerService/ListServers", request))
          .nextPageToken;
      }
      const times: number[] = [];
      let rows = 0;
      let total = 0;
      for (let run = 0; run < runs + 3; run++) {
        const started = performance.now();
        const page = await session.call<{ servers?: unknown[]; totalSize?: number }>(
          "ServerService/ListServers",
          {
            ...request,
            ...(pageToken ? { pageToken } : {}),
          },
        );
        const elapsed = performance.now() - started;
        rows = page.servers?.length ?? 0;
        total = page.totalSize ?? 0;
        if (run >= 3) times.push(elapsed); // the first calls warm caches and plans
      }
      everything.push(...times);
      results[name] = {
        p50: round1(percentile(times, 50)),
        p95: round1(percentile(times, 95)),
        max: round1(Math.max(...times)),
        rows,
        total,
      };
      process.stdout.write(
        `  ${name.padEnd(40)} p50 ${results[name].p50} ms  p95 ${results[name].p95} ms  (${rows} of ${total})\n`,
      );
    }
    await server.stop();
    return {
      kind,
      count,
      importMs: Math.round(importMs),
      importRowsPerSecond: Math.round(count / (importMs / 1000)),
      listServersP95AllCasesMs: round1(percentile(everything, 95)),
      listServers: results,
    };
  } finally {
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const cases = (process.argv.slice(2).length ? process.argv.slice(2) : ["pglite:10000", "postgres:10000"]).map(
  (spec) => {
    const [kind, count] = spec.split(":");
    if ((kind !== "pglite" && kind !== "postgres") || !Number(count)) throw new Error(`bad case "${spec}"`);
    return { kind: kind as "pglite" | "postgres", count: Number(count) };
  },
);
const measured = [];
for (const { kind, count } of cases) measured.push(await measureCase(kind, count));
const out = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, load ${os.loadavg().map(round1).join(" ")}`,
  runs,
  measured,
};
mkdirSync(path.join(root, "bench/results"), { recursive: true });
const file = path.join(root, `bench/results/fleet-api-${Date.now()}.json`);
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
for (const m of measured) {
  process.stdout.write(
    `${m.kind} ${m.count}: import ${m.importMs} ms (${m.importRowsPerSecond} rows/s); ListServers p95 over all cases ${m.listServersP95AllCasesMs} ms\n`,
  );
}
process.stdout.write(`results: ${file}\n`);
