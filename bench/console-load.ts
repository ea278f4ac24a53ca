// Page loads of the console's production build: the first load of each main page in a fresh
// browser context (cold cache) and client-side navigation between them. Run with
// `npm run bench:console` (it builds server and console first); BENCH_RUNS sets the runs (>= 5).
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser } from "../web/test/e2e/support/browser.ts";
import { startControlServer } from "../web/test/e2e/support/control-server.ts";
import { callApi, signInFirstAdmin } from "../web/test/e2e/support/session.ts";

const root = new URL("..", import.meta.url).pathname;
const runs = Math.max(5, Number(process.env.BENCH_RUNS ?? 7));
const VIEWPORT = { width: 1280, height: 800 };

interface PageCase {
  readonly name: string;
  readonly path: string;
  /** What shows the page's main content (its data, or the state that says there is none). */
  readonly content: string;
  /** Needs a signed-in session. */
  readonly session: boolean;
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const round = (value: number) => Math.round(value);

interface FirstLoad {
  ttfbMs: number;
  domContentLoadedMs: number;
  loadMs: number;
  contentMs: number;
  jsBytes: number;
  jsFiles: number;
  totalBytes: number;
}

/** Records, in the page, when `selector` first matches a visible element (ms since navigation start). */
function watchContent(selector: string) {
  const mark = () => {
    const element = document.querySelector(selector);
    if (!element?.checkVisibility()) return false;
    Object.assign(window, { benchContentAt: performance.now() });
    return true;
  };
  const observer = new MutationObserver(() => {
    if (mark()) observer.disconnect();
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true });
}

async function firstLoad(browser: Browser, storageState: unknown, target: PageCase, base: string) {
  const context = await browser.newContext({
    viewport: VIEWPORT,
    storageState: target.session ? (storageState as never) : undefined,
  });
  try {
    const page = await context.newPage();
    await page.addInitScript(watchContent, target.content);
    await page.goto(new URL(target.path, base).toString(), { waitUntil: "load", timeout: 60_000 });
    await page.waitForFunction(() => "benchContentAt" in window, undefined, { timeout: 60_000 });
    await page.waitForTimeout(200); // let loadEventEnd settle
    return (await page.evaluate(() => {
      const [navigation] = performance.getEntriesByType("navigation") as PerformanceNavigationTiming[];
      const resources = performance.getEntriesByType("resource") as PerformanceResourceTiming[];
      const scripts = resources.filter((entry) => new URL(entry.name).pathname.endsWith(".js"));
      return {
        ttfbMs: navigation?.responseStart ?? Number.NaN,
        domContentLoadedMs: navigation?.domContentLoadedEventEnd ?? Number.NaN,
        loadMs: navigation?.loadEventEnd ?? Number.NaN,
        contentMs: (window as unknown as { benchContentAt: number }).benchContentAt,
        jsBytes: scripts.reduce((sum, entry) => sum + entry.transferSize, 0),
        jsFiles: scripts.length,
        totalBytes:
          (navigation?.transferSize ?? 0) + resources.reduce((sum, entry) => sum + entry.transferSize, 0),
      };
    })) satisfies FirstLoad;
  } finally {
    await context.close();
  }
}

/** Clicks the link to `href` in the page and returns the ms until `selector` is visible. */
function navigate(page: Page, href: string, selector: string): Promise<number> {
  return page.evaluate(
    ({ href, selector }) =>
      new Promise<number>((resolve, reject) => {
        const link = document.querySelector<HTMLAnchorElement>(`a[href="${href}"]`);
        if (!link) return reject(new Error(`no link to ${href} on ${location.pathname}`));
        const start = performance.now();
        const timer = setTimeout(() => reject(new Error(`${selector} not visible after 30 s`)), 30_000);
        const observer = new MutationObserver(() => {
          if (!document.querySelector(selector)?.checkVisibility()) return;
          observer.disconnect();
          clearTimeout(timer);
          resolve(performance.now() - start);
        });
        observer.observe(document, { subtree: true, childList: true, attributes: true });
        link.click();
      }),
    { href, selector },
  );
}

const server = await startControlServer();
let browser: Browser | undefined;
try {
  browser = await launchBrowser();
  const signedIn: BrowserContext = await browser.newContext({ viewport: VIEWPORT });
  await signInFirstAdmin(signedIn, server);
  // One server record, so the fleet lists a row and its detail page has something to show.
  const data = Buffer.from(JSON.stringify([{ name: "bench-1", host: "127.0.0.1", tags: { env: "bench" } }]));
  await callApi(signedIn, server.url, "/ocore.api.v1.ServerService/ImportServers", {
    format: "DATA_FORMAT_JSON",
    data: data.toString("base64"),
  });
  const listed = (await callApi(signedIn, server.url, "/ocore.api.v1.ServerService/ListServers", {})) as {
    servers: { id: string }[];
  };
  const serverId = listed.servers[0]?.id ?? "";

  const pages: PageCase[] = [
    { name: "sign-in", path: "/sign-in", content: 'form input[name="username"]', session: false },
    { name: "fleet", path: "/servers", content: '[data-testid="server-row"]', session: true },
    {
      name: "server detail",
      path: `/servers/${serverId}`,
      content: '[data-testid="server-title"]',
      session: true,
    },
    {
      name: "instances",
      path: "/instances",
      content: '[data-testid="instance-table"], [data-testid="instances-empty"]',
      session: true,
    },
    { name: "users", path: "/admin/users", content: '[data-testid="user-list"]', session: true },
    {
      name: "tokens",
      path: "/admin/tokens",
      content: '[data-testid="token-list"], [data-testid="tokens-empty"]',
      session: true,
    },
    { name: "audit", path: "/admin/audit", content: '[data-testid="audit-list"]', session: true },
  ];

  const firstLoads = [];
  for (const target of pages) {
    const samples: FirstLoad[] = [];
    for (let run = 0; run < runs; run++) {
      const state = await signedIn.storageState();
      samples.push(await firstLoad(browser, state, target, server.url));
    }
    const row = {
      page: target.name,
      path: target.path.replace(serverId, ":id"),
      ttfbMs: round(median(samples.map((s) => s.ttfbMs))),
      domContentLoadedMs: round(median(samples.map((s) => s.domContentLoadedMs))),
      loadMs: round(median(samples.map((s) => s.loadMs))),
      contentMs: round(median(samples.map((s) => s.contentMs))),
      jsKb: round(median(samples.map((s) => s.jsBytes)) / 1024),
      jsFiles: median(samples.map((s) => s.jsFiles)),
      totalKb: round(median(samples.map((s) => s.totalBytes)) / 1024),
      runs,
    };
    firstLoads.push(row);
    console.log(
      `first load ${row.page.padEnd(14)} TTFB ${String(row.ttfbMs).padStart(5)} ms  DCL ${String(row.domContentLoadedMs).padStart(5)} ms  load ${String(row.loadMs).padStart(5)} ms  content ${String(row.contentMs).padStart(5)} ms  JS ${row.jsKb} kB (${row.jsFiles} files)`,
    );
  }

  // Client-side navigation: one warm page clicks through the console's links, round after round.
  const page = await signedIn.newPage();
  await page.goto(new URL("/servers", server.url).toString());
  await page.locator('[data-testid="server-row"]').first().waitFor();
  const hops = [
    { to: "server detail", href: `/servers/${serverId}`, content: '[data-testid="server-title"]' },
    { to: "instances", href: "/instances", content: pages[3]?.content ?? "" },
    { to: "users", href: "/admin/users", content: '[data-testid="user-list"]' },
    { to: "tokens", href: "/admin/tokens", content: pages[5]?.content ?? "" },
    { to: "audit", href: "/admin/audit", content: '[data-testid="audit-list"]' },
    { to: "fleet", href: "/servers", content: '[data-testid="server-row"]' },
  ];
  const navSamples = new Map<string, number[]>();
  for (let run = 0; run < runs; run++) {
    for (const hop of hops) {
      const ms = await navigate(page, hop.href, hop.content);
      navSamples.set(hop.to, [...(navSamples.get(hop.to) ?? []), ms]);
      await page.waitForTimeout(300); // let the page settle before the next click
    }
  }
  const navigations = hops.map((hop) => ({
    to: hop.to,
    contentMs: round(median(navSamples.get(hop.to) ?? [])),
    maxMs: round(Math.max(...(navSamples.get(hop.to) ?? []))),
    runs,
  }));
  for (const row of navigations)
    console.log(
      `navigate to ${row.to.padEnd(14)} content ${String(row.contentMs).padStart(5)} ms (max ${row.maxMs})`,
    );

  mkdirSync(path.join(root, "bench/results"), { recursive: true });
  writeFileSync(
    path.join(root, "bench/results/console-load.json"),
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        cpus: os.cpus().length,
        loadAverage: os.loadavg().map((value) => Math.round(value * 100) / 100),
        node: process.version,
        browser: browser.version(),
        firstLoads,
        navigations,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await browser?.close();
  await server.stop();
}
