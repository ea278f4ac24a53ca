// Cold start time and memory of the built control server, on the embedded database (first start,
// which creates it, and a restart) and on PostgreSQL; then the memory of the embedded default with
// the console over its first minutes (idle, then a little console traffic). Run with
// `npm run bench:startup`.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { startCluster } from "../server/test/support/postgres-cluster.ts";
import { consoleTraffic } from "./console-traffic.ts";
import { firstAdminPassword } from "./first-admin-password.ts";

const root = new URL("..", import.meta.url).pathname;
const runs = Number(process.env.BENCH_RUNS ?? 3);
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
/** BENCH_CASES=memory runs only the memory-over-time part, =startup only the cold starts. */
const cases = new Set((process.env.BENCH_CASES ?? "startup,memory").split(","));

interface Sample {
  readyMs: number;
  rssMb: number;
}

function status(pid: number, field: "VmRSS" | "VmHWM"): number {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? 0) / 1024;
}
const rssMb = (pid: number) => status(pid, "VmRSS");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The `npm start` command's Node/V8 flags, so the figures are those of the real thing. */
const startFlags = (() => {
  const script = (
    JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: { start: string } }
  ).scripts.start;
  return (
    /node ((?:--\S+ )*)server\/dist\/main\.js/.exec(script)?.[1]?.trim().split(" ").filter(Boolean) ?? []
  );
})();

interface RunningServer {
  readonly pid: number;
  readonly readyMs: number;
  readonly url: string;
  stderr(): string;
  stop(): Promise<void>;
}

async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [...startFlags, path.join(root, "server/dist/main.js")],
    {
      env: {
        PATH: process.env.PATH,
        OCORE_HTTP_ADDR: "127.0.0.1:0",
        OCORE_AGENT_ADDR: "127.0.0.1:0",
        OCORE_SSH_LISTEN_ADDR: "127.0.0.1:0",
        ...env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  const { readyMs, url } = await new Promise<{ readyMs: number; url: string }>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const running = /is running: open (\S+)/.exec(stderr);
      if (running) resolve({ readyMs: performance.now() - started, url: running[1] as string });
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return {
    pid: child.pid ?? 0,
    readyMs,
    url,
    stderr: () => stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners("exit");
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

async function measure(env: Record<string, string>): Promise<Sample> {
  const server = await startServer(env);
  await sleep(2_000); // settle, then read the resident memory
  const sample = { readyMs: server.readyMs, rssMb: rssMb(server.pid) };
  await server.stop();
  return sample;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function series(name: string, envFor: (run: number) => Promise<Record<string, string>>) {
  const samples: Sample[] = [];
  for (let run = 0; run < runs; run++) samples.push(await measure(await envFor(run)));
  const row = {
    case: name,
    readyMsMedian: Math.round(median(samples.map((s) => s.readyMs))),
    rssMbMedian: Math.round(median(samples.map((s) => s.rssMb))),
    runs,
  };
  console.log(
    `${row.case.padEnd(44)} ready ${String(row.readyMsMedian).padStart(6)} ms   RSS ${row.rssMbMedian} MB`,
  );
  return row;
}

const results: Awaited<ReturnType<typeof series>>[] = [];
const scratchDirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocore-bench-"));
  scratchDirs.push(dir);
  return dir;
};

/** Cold start time and RSS 2 s after start, per case (the table "Server cold start"). */
async function coldStarts() {
  results.push(
    await series("PGlite, first start (creates the database)", async () => ({
      OCORE_DATA_DIR: scratch(),
      OCORE_CONSOLE: "off",
    })),
  );
  const warm = scratch();
  await measure({ OCORE_DATA_DIR: warm, OCORE_CONSOLE: "off" });
  results.push(await series("PGlite, restart", async () => ({ OCORE_DATA_DIR: warm, OCORE_CONSOLE: "off" })));
  results.push(
    await series("PGlite, restart, with the console", async () => ({
      OCORE_DATA_DIR: warm,
      NODE_ENV: "production",
    })),
  );

  // Replicas on PostgreSQL share one master key (the CA's key is sealed with it in the database).
  const masterKey = randomBytes(32).toString("base64");
  const cluster = await startCluster();
  try {
    const admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
    const urls: string[] = [];
    for (let run = 0; run <= runs; run++) {
      await admin.unsafe(`create database bench_${run}`);
      const url = new URL(cluster.url);
      url.pathname = `/bench_${run}`;
      urls.push(url.toString());
    }
    await admin.end();
    results.push(
      await series("PostgreSQL, first start (migrates)", async (run) => ({
        OCORE_DATA_DIR: scratch(),
        OCORE_CONSOLE: "off",
        OCORE_MASTER_KEY: masterKey,
        DATABASE_URL: urls[run] as string,
      })),
    );
    results.push(
      await series("PostgreSQL, restart", async () => ({
        OCORE_DATA_DIR: scratch(),
        OCORE_CONSOLE: "off",
        OCORE_MASTER_KEY: masterKey,
        DATABASE_URL: urls[0] as string,
      })),
    );
  } finally {
    await cluster.stop();
  }
}

/**
 * The embedded default with the console, as `npm start` runs it: RSS 2 s after "is running", after
 * `idleSeconds` idle, and 5 s after a little console traffic (sign-in, the main pages and their
 * assets, the pages' API reads); the peak is the kernel's high-water mark over the whole run.
 */
async function memoryOverTime(name: string, dataDir: string, firstStart: boolean) {
  const server = await startServer({ OCORE_DATA_DIR: dataDir, NODE_ENV: "production" });
  try {
    await sleep(2_000);
    const afterStart = rssMb(server.pid);
    await sleep(idleSeconds * 1_000);
    const afterIdle = rssMb(server.pid);
    // A restart signs in with the password the first start chose.
    const oneTimePassword = firstStart ? firstAdminPassword(dataDir) : undefined;
    const traffic = await consoleTraffic(server.url, oneTimePassword);
    await sleep(5_000);
    const row = {
      case: name,
      readyMs: Math.round(server.readyMs),
      rssAfterStartMb: Math.round(afterStart),
      rssAfterIdleMb: Math.round(afterIdle),
      rssAfterTrafficMb: Math.round(rssMb(server.pid)),
      rssPeakMb: Math.round(status(server.pid, "VmHWM")),
      idleSeconds,
      trafficRequests: traffic.requests,
    };
    console.log(
      `${row.case.padEnd(44)} RSS ${row.rssAfterStartMb} MB; after ${idleSeconds} s idle ${row.rssAfterIdleMb} MB; ` +
        `after ${row.trafficRequests} requests ${row.rssAfterTrafficMb} MB; peak ${row.rssPeakMb} MB`,
    );
    return row;
  } finally {
    await server.stop();
  }
}

console.log(`npm start's flags: ${startFlags.join(" ") || "(none)"}`);
const overTime = [];
try {
  if (cases.has("startup")) await coldStarts();
  if (cases.has("memory")) {
    const memory = scratch();
    overTime.push(await memoryOverTime("PGlite + console, first start", memory, true));
    overTime.push(await memoryOverTime("PGlite + console, restart", memory, false));
  }
} finally {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
}

mkdirSync(path.join(root, "bench/results"), { recursive: true });
writeFileSync(
  path.join(root, "bench/results/server-startup.json"),
  `${JSON.stringify({ at: new Date().toISOString(), cpus: os.cpus().length, node: process.version, serverNodeFlags: startFlags, results, overTime }, null, 2)}\n`,
);
