// Cold start time and memory of the built control server, on the embedded database (first start,
// which creates it, and a restart) and on PostgreSQL. Run with `npm run bench:startup`.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { startCluster } from "../server/test/support/postgres-cluster.ts";

const root = new URL("..", import.meta.url).pathname;
const runs = Number(process.env.BENCH_RUNS ?? 3);

interface Sample {
  readyMs: number;
  rssMb: number;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function measure(env: Record<string, string>): Promise<Sample> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [path.join(root, "server/dist/main.js")], {
    env: { PATH: process.env.PATH, OCORE_HTTP_ADDR: "127.0.0.1:0", OCORE_AGENT_ADDR: "127.0.0.1:0", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const readyMs = await new Promise<number>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("is running: open")) resolve(performance.now() - started);
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // settle, then read the resident memory
  const sample = { readyMs, rssMb: rssMb(child.pid ?? 0) };
  await new Promise<void>((resolve) => {
    child.removeAllListeners("exit");
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
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

const results = [];
const scratch = () => mkdtempSync(path.join(os.tmpdir(), "ocore-bench-"));
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

mkdirSync(path.join(root, "bench/results"), { recursive: true });
writeFileSync(
  path.join(root, "bench/results/server-startup.json"),
  `${JSON.stringify({ at: new Date().toISOString(), cpus: os.cpus().length, node: process.version, results }, null, 2)}\n`,
);
