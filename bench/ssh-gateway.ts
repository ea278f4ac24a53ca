// The SSH gateway with stock OpenSSH, through a real agent to a loopback sshd (the e2e fixture,
// server/test/support/ssh-gateway-fixture.ts): session setup (ssh started → first output) for N
// sequential and C concurrent sessions, keystroke echo on a pty, throughput of `cat` of a 100 MB
// text file, and the gateway's memory per open session; each next to direct ssh to the same sshd.
// Run with `npm run bench:ssh` (as root: it creates a test user); `BENCH_SESSIONS=N` (default 20);
// `BENCH_ONLY=echo,cat` picks cases (setup, echo, cat, memory; default all; `concurrent`: 50
// sessions at once, `BENCH_CONCURRENT=N`, echo in all while one streams, only when asked), `BENCH_ROUTES=direct,gateway,unrecorded`
// picks routes, `BENCH_CAT_SECONDS=N` caps each `cat` (default 60).
import { execFileSync, spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { performance } from "node:perf_hooks";
import {
  type SshGatewayFixture,
  startSshGatewayFixture,
} from "../server/test/support/ssh-gateway-fixture.ts";

const sessions = Math.max(5, Number(process.env.BENCH_SESSIONS ?? 20));
const FILE = "/tmp/h15s-bench-100mb.txt";
const FILE_BYTES = 100 * 1000 * 1000;
const CASES = new Set((process.env.BENCH_ONLY ?? "setup,echo,cat,memory").split(","));
const PER_ROUTE = ["setup", "echo", "cat"].some((name) => CASES.has(name));
const CAT_SECONDS = Number(process.env.BENCH_CAT_SECONDS ?? 60);

type Route = "direct" | "gateway" | "gateway, unrecorded";

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;

function argsFor(fx: SshGatewayFixture, route: Route, command: string[], tty = false): string[] {
  const common = ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", ...(tty ? ["-tt"] : [])];
  if (route === "direct") {
    return [
      "-p",
      String(fx.sshd.port),
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "LogLevel=ERROR",
      "-F",
      "/dev/null",
      ...common,
      "-i",
      fx.hostUserKey,
      `${fx.sshd.users[0]?.username}@127.0.0.1`,
      ...command,
    ];
  }
  return [
    ...fx.baseArgs(route === "gateway" ? "normal" : "unrecorded"),
    ...common,
    "-i",
    fx.keys.alice ?? "",
    `alice+${fx.serverName}@127.0.0.1`,
    ...command,
  ];
}

/** Milliseconds from starting ssh to its first byte of output (the command is `echo ready`). */
function setupOnce(fx: SshGatewayFixture, route: Route): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("ssh", argsFor(fx, route, ["echo ready"]), { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let first = 0;
    child.stdout.once("data", () => {
      first = performance.now() - started;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("exit", (code) =>
      code === 0 && first > 0 ? resolve(first) : reject(new Error(`ssh exited with ${code}: ${stderr}`)),
    );
  });
}

async function setupLatency(fx: SshGatewayFixture, route: Route) {
  const failures: string[] = [];
  const attempt = (): Promise<number[]> =>
    setupOnce(fx, route).then(
      (value) => [value],
      (error: unknown) => {
        failures.push(String(error).slice(0, 200));
        return [];
      },
    );
  const sequential: number[] = [];
  for (let i = 0; i < sessions; i++) sequential.push(...(await attempt()));
  const concurrent = (await Promise.all(Array.from({ length: sessions }, attempt))).flat();
  if (failures.length > 0) console.log(`${route}: ${failures.length} failed setups, e.g. ${failures[0]}`);
  return { sequential, concurrent };
}

/** Keystroke → echo on a pty running `cat` (one byte at a time, waiting for each echo). */
async function echoLatency(fx: SshGatewayFixture, route: Route, keys = 100): Promise<number[]> {
  const child = spawn("ssh", argsFor(fx, route, ["cat"], true), { stdio: ["pipe", "pipe", "pipe"] });
  let seen = "";
  let waiter: (() => void) | undefined;
  child.stdout.on("data", (chunk: Buffer) => {
    seen += chunk.toString();
    waiter?.();
  });
  const waitFor = (text: string, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${text} in ${seen.slice(-200)}`)), timeoutMs);
      const check = () => {
        if (!seen.includes(text)) return;
        clearTimeout(timer);
        waiter = undefined;
        resolve();
      };
      waiter = check;
      check();
    });
  child.stdin.write("warm\n");
  await waitFor("warm\r\nwarm");
  const times: number[] = [];
  for (let i = 0; i < keys; i++) {
    const key = String.fromCharCode(97 + (i % 26));
    seen = "";
    const started = performance.now();
    child.stdin.write(key);
    await waitFor(key);
    times.push(performance.now() - started);
  }
  child.stdin.end("\n\u0004");
  child.kill("SIGTERM");
  return times;
}

/** A pty running `cat` through `route`; `type` sends one key and resolves with its echo time. */
async function openEchoSession(fx: SshGatewayFixture, route: Route) {
  const child = spawn("ssh", argsFor(fx, route, ["cat"], true), { stdio: ["pipe", "pipe", "pipe"] });
  let seen = "";
  let waiter: (() => void) | undefined;
  child.stdout.on("data", (chunk: Buffer) => {
    seen += chunk.toString();
    waiter?.();
  });
  const waitFor = (text: string, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${text} in ${seen.slice(-200)}`)), timeoutMs);
      const check = () => {
        if (!seen.includes(text)) return;
        clearTimeout(timer);
        waiter = undefined;
        resolve();
      };
      waiter = check;
      check();
    });
  child.stdin.write("warm\n");
  await waitFor("warm\r\nwarm");
  return {
    async type(key: string): Promise<number> {
      seen = "";
      const started = performance.now();
      child.stdin.write(key);
      await waitFor(key);
      return performance.now() - started;
    },
    close() {
      child.kill("SIGTERM");
    },
  };
}

/**
 * `count` sessions open at once on the one agent, each a pty running `cat`: every round types a
 * key in all of them at once and times each echo, first with nothing else running, then while
 * one more session streams the 100 MB file; and the gateway's RSS growth with them open.
 */
async function concurrentEcho(fx: SshGatewayFixture, route: Route, count: number) {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const opened = await Promise.allSettled(
    Array.from({ length: count - 1 }, () => openEchoSession(fx, route)),
  );
  const sessions = opened.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  gc?.();
  const rssOpen = process.memoryUsage().rss;
  const rounds = async (n: number) => {
    const times: number[] = [];
    for (let round = 0; round < n; round++) {
      const key = String.fromCharCode(97 + (round % 26));
      times.push(...(await Promise.all(sessions.map((session) => session.type(key)))));
    }
    return times;
  };
  const quiet = await rounds(10);
  const streaming = throughput(fx, route);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const busy = await rounds(10);
  const rate = await streaming;
  for (const session of sessions) session.close();
  return {
    open: sessions.length,
    quiet,
    busy,
    rate,
    rssPerSession: (rssOpen - rssBefore) / Math.max(1, sessions.length),
  };
}

/** MB/s of `cat` of the 100 MB file, read by this process as fast as it comes. */
function throughput(fx: SshGatewayFixture, route: Route): Promise<{ rate: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("ssh", argsFor(fx, route, [`cat ${FILE}`]), { stdio: ["ignore", "pipe", "pipe"] });
    let bytes = 0;
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // At most a minute per route: a slower route reports the rate of what it moved by then.
    const cap = setTimeout(() => child.kill("SIGTERM"), CAT_SECONDS * 1000);
    child.once("exit", () => {
      clearTimeout(cap);
      if (bytes === 0) return reject(new Error(`${route}: nothing received: ${stderr}`));
      resolve({ rate: bytes / 1e6 / ((performance.now() - started) / 1000), complete: bytes >= FILE_BYTES });
    });
  });
}

/** `fn` under this process's CPU profiler when BENCH_CPU_PROFILE is set (the gateway runs here). */
async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (!process.env.BENCH_CPU_PROFILE) return fn();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  try {
    return await fn();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    const file = `/tmp/ssh-gateway-${name.replace(/\W+/g, "-")}.cpuprofile`;
    writeFileSync(file, JSON.stringify(profile));
    console.log(`CPU profile of the gateway process: ${file}`);
    session.disconnect();
  }
}

/** This process's memory (the gateway, its tunnels and recorders) per open idle session. */
async function memoryPerSession(fx: SshGatewayFixture, count: number) {
  const gc = (globalThis as { gc?: () => void }).gc;
  const measure = () => {
    gc?.();
    const usage = process.memoryUsage();
    return { rss: usage.rss, live: usage.heapUsed + usage.external };
  };
  const before = measure();
  const children = Array.from({ length: count }, () =>
    spawn("ssh", argsFor(fx, "gateway", ["echo open; sleep 600"]), { stdio: ["ignore", "pipe", "ignore"] }),
  );
  // A session that fails to open (its exit) or is slow (60 s) is not counted.
  const opened = await Promise.all(
    children.map(
      (child) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 60_000);
          child.stdout.once("data", () => resolve(true));
          child.once("exit", () => resolve(false));
          child.once("exit", () => clearTimeout(timer));
        }),
    ),
  );
  const open = opened.filter(Boolean).length;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const after = measure();
  for (const child of children) child.kill("SIGTERM");
  return { open, rss: (after.rss - before.rss) / open, live: (after.live - before.live) / open };
}

async function main() {
  execFileSync("sh", [
    "-c",
    `head -c 75000000 /dev/urandom | base64 -w 100 | head -c ${FILE_BYTES} > ${FILE}`,
  ]);
  execFileSync("chmod", ["0644", FILE]);
  const fx = await startSshGatewayFixture();
  try {
    const load = () =>
      execFileSync("uptime", { encoding: "utf8" })
        .trim()
        .replace(/.*load/, "load");
    console.log(`SSH gateway bench, ${sessions} sessions per case; ${load()}`);
    const routes = (process.env.BENCH_ROUTES ?? "direct,gateway,unrecorded")
      .split(",")
      .map((route) => route.trim())
      .map((route) => (route === "unrecorded" ? "gateway, unrecorded" : route)) as Route[];
    console.log(
      "| route | setup p50 / p99 sequential | setup p50 / p99 concurrent | echo p50 / p99 | cat 100 MB |",
    );
    console.log("| --- | --- | --- | --- | --- |");
    for (const route of PER_ROUTE ? routes : []) {
      const setup = CASES.has("setup") ? await setupLatency(fx, route) : { sequential: [], concurrent: [] };
      const echo = CASES.has("echo") ? await echoLatency(fx, route) : [];
      const rate = CASES.has("cat")
        ? await profiled(`cat ${route}`, () => throughput(fx, route))
        : { rate: Number.NaN, complete: true };
      console.log(
        `| ${route} | ${ms(pct(setup.sequential, 50))} / ${ms(pct(setup.sequential, 99))} | ${ms(pct(setup.concurrent, 50))} / ${ms(pct(setup.concurrent, 99))} (${sessions} at once) | ${ms(pct(echo, 50))} / ${ms(pct(echo, 99))} | ${rate.rate.toFixed(1)} MB/s${rate.complete ? "" : ` (stopped after ${CAT_SECONDS} s)`} |`,
      );
    }
    if (CASES.has("concurrent")) {
      const count = Number(process.env.BENCH_CONCURRENT ?? 50);
      for (const route of routes.filter((route) => route !== "direct")) {
        const result = await concurrentEcho(fx, route, count);
        console.log(
          `${route}: ${result.open + 1} sessions at once (${result.open} of ${count - 1} echo sessions opened): echo p50 / p99 ${ms(pct(result.quiet, 50))} / ${ms(pct(result.quiet, 99))} quiet, ${ms(pct(result.busy, 50))} / ${ms(pct(result.busy, 99))} while one streams (${result.rate.rate.toFixed(1)} MB/s); gateway RSS +${(result.rssPerSession / 1024).toFixed(0)} KB per open session`,
        );
      }
    }
    if (CASES.has("memory")) {
      const memory = await memoryPerSession(fx, sessions);
      console.log(
        `gateway memory per open session (${memory.open} of ${sessions} open, idle, after GC): ${(memory.live / 1024).toFixed(0)} KB live heap + external, ${(memory.rss / 1024).toFixed(0)} KB RSS`,
      );
    }
    console.log(load());
  } finally {
    await fx.close();
    rmSync(FILE, { force: true });
  }
}

await main();
process.exit(0);
