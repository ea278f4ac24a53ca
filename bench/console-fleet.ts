// The fleet page of the console's production build at N servers (default 10,000), in Chromium:
// time to first rows in a fresh browser context, the page's JS heap once it settled, and the time
// from typing a name filter to the filtered rows. Run with `npm run bench:console` (after the page
// loads of console-load.ts) or `node bench/console-fleet.ts 10000` after building server and
// console; BENCH_RUNS sets the runs (>= 3), DATABASE_URL runs the server on that PostgreSQL, and
// `node bench/console-fleet.ts 10000 postgres` on a throwaway PostgreSQL cluster it starts and removes.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startCluster } from "../server/test/support/postgres-cluster.ts";
import { launchBrowser } from "../web/test/e2e/support/browser.ts";
import { startControlServer } from "../web/test/e2e/support/control-server.ts";
import { callApi, signInFirstAdmin } from "../web/test/e2e/support/session.ts";

const root = new URL("..", import.meta.url).pathname;
const count = Number(process.argv[2] ?? 10_000);
const runs = Math.max(3, Number(process.env.BENCH_RUNS ?? 5));
const VIEWPORT = { width: 1280, height: 800 };
const ROW = '[data-testid="server-row"]';

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const loadAverage = () => os.loadavg().map((value) => Math.round(value * 10) / 10);

function csvOf(n: number): string {
  const lines = ["name,host,ssh_port,ssh_user,tags"];
  for (let i = 0; i < n; i++) {
    const env = i % 3 === 0 ? "prod" : "staging";
    lines.push(
      `srv-${String(i).padStart(6, "0")},10.${i >> 16}.${(i >> 8) & 255}.${i & 255},22,root,env=${env}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Records, in the page, when the first server row shows (ms since navigation start). */
function watchFirstRow(selector: string) {
  const observer = new MutationObserver(() => {
    if (!document.querySelector(selector)?.checkVisibility()) return;
    Object.assign(window, { benchFirstRowAt: performance.now() });
    observer.disconnect();
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true });
}

/** The page's used JS heap after a full garbage collection, in MB. */
async function heapMb(context: BrowserContext, page: Page): Promise<number> {
  const cdp = await context.newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  await cdp.detach();
  return usedSize / 1024 / 1024;
}

/** Types `text` into the search box and returns the ms until every row shown matches it. */
async function filterMs(page: Page, text: string, expected: number): Promise<number> {
  const start = performance.now();
  await page.getByTestId("server-search").fill(text);
  await page.waitForFunction(
    ({ row, text, expected }) => {
      const names = [...document.querySelectorAll(`${row} [data-testid="server-name"]`)].map(
        (element) => element.textContent ?? "",
      );
      return names.length === expected && names.every((name) => name.includes(text));
    },
    { row: ROW, text, expected },
    { polling: "raf", timeout: 30_000 },
  );
  return performance.now() - start;
}

async function oneRun(browser: Browser, state: unknown, base: string, run: number) {
  const context = await browser.newContext({ viewport: VIEWPORT, storageState: state as never });
  try {
    const page = await context.newPage();
    await page.addInitScript(watchFirstRow, ROW);
    await page.goto(new URL("/servers", base).toString(), { waitUntil: "commit", timeout: 60_000 });
    await page.waitForFunction(() => "benchFirstRowAt" in window, undefined, { timeout: 60_000 });
    const firstRowsMs = await page.evaluate(
      () => (window as unknown as { benchFirstRowAt: number }).benchFirstRowAt,
    );
    await page.waitForTimeout(3_000); // a live batch or two
    const heap = await heapMb(context, page);
    // A different name each run: srv-00N12 matches srv-00N120..srv-00N129 (10 rows).
    const filter = await filterMs(page, `srv-00${run}12`, 10);
    return { firstRowsMs, heapMb: heap, filterMs: filter };
  } finally {
    await context.close();
  }
}

const cluster = process.argv[3] === "postgres" ? await startCluster() : undefined;
const databaseUrl = cluster?.url ?? process.env.DATABASE_URL;
const env: Record<string, string> = databaseUrl ? { DATABASE_URL: databaseUrl } : {};
const server = await startControlServer({ OCORE_LOG_LEVEL: "warn", ...env });
let browser: Browser | undefined;
try {
  browser = await launchBrowser();
  const signedIn = await browser.newContext({ viewport: VIEWPORT });
  await signInFirstAdmin(signedIn, server);
  const importStarted = performance.now();
  await callApi(signedIn, server.url, "/ocore.api.v1.ServerService/ImportServers", {
    format: "DATA_FORMAT_CSV",
    data: Buffer.from(csvOf(count)).toString("base64"),
  });
  console.log(`imported ${count} servers in ${Math.round(performance.now() - importStarted)} ms`);
  const state = await signedIn.storageState();
  const before = loadAverage();
  const samples = [];
  for (let run = 0; run < runs; run++) {
    const sample = await oneRun(browser, state, server.url, run);
    samples.push(sample);
    console.log(
      `run ${run + 1}: first rows ${Math.round(sample.firstRowsMs)} ms, JS heap ${sample.heapMb.toFixed(1)} MB, name filter ${Math.round(sample.filterMs)} ms`,
    );
  }
  const result = {
    at: new Date().toISOString(),
    servers: count,
    database: env.DATABASE_URL ? "postgres" : "pglite",
    cpus: os.cpus().length,
    loadAverageBefore: before,
    loadAverageAfter: loadAverage(),
    node: process.version,
    browser: browser.version(),
    runs,
    firstRowsMs: Math.round(median(samples.map((s) => s.firstRowsMs))),
    firstRowsMaxMs: Math.round(Math.max(...samples.map((s) => s.firstRowsMs))),
    heapMb: Math.round(median(samples.map((s) => s.heapMb)) * 10) / 10,
    filterMs: Math.round(median(samples.map((s) => s.filterMs))),
    filterMaxMs: Math.round(Math.max(...samples.map((s) => s.filterMs))),
  };
  console.log(JSON.stringify(result));
  mkdirSync(path.join(root, "bench/results"), { recursive: true });
  writeFileSync(
    path.join(root, `bench/results/console-fleet-${count}.json`),
    `${JSON.stringify(result, null, 2)}\n`,
  );
} finally {
  await browser?.close();
  await server.stop();
  await cluster?.stop();
}
