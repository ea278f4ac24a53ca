import { mkdirSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentGatewayEnv, freePort, type RunningAgent, startAgent } from "./support/agent.js";
import { launchBrowser } from "./support/browser.js";
import { type ControlServer, startControlServer } from "./support/control-server.js";
import { callApi, signInFirstAdmin } from "./support/session.js";

const SCREENSHOTS = new URL("../../../docs/screenshots/", import.meta.url).pathname;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

async function timed(label: string, action: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await action();
  const ms = Math.round(performance.now() - start);
  process.stdout.write(`page-load ${label}: ${ms} ms\n`);
  return ms;
}

/**
 * The real agent on this host feeds a server record; the console follows it live (WatchFleet),
 * draws its charts from real samples, and the administration pages manage users, tokens and
 * show the audit log of it all.
 */
describe("a live server, its charts, and administration", () => {
  let server: ControlServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let agent: RunningAgent | undefined;
  let serverId = "";
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const port = await freePort();
    [server, browser] = await Promise.all([startControlServer(agentGatewayEnv(port)), launchBrowser()]);
    context = await browser.newContext({ viewport: DESKTOP });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await signInFirstAdmin(context, server);
  });
  afterAll(async () => {
    await agent?.stop();
    await context?.close();
    await browser?.close();
    await server?.stop();
  });

  const shot = (name: string) => page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
  const api = (path: string, body: unknown) => callApi(context, server.url, path, body);

  it("shows a server turn active live once its agent connects", async () => {
    const data = Buffer.from(
      JSON.stringify([{ name: "loopback-1", host: "127.0.0.1", tags: { env: "e2e" } }]),
    );
    await api("/ocore.api.v1.ServerService/ImportServers", {
      format: "DATA_FORMAT_JSON",
      data: data.toString("base64"),
    });
    await page.goto(`${server.url}/servers`);
    await page.getByTestId("server-row").first().waitFor();
    expect(await page.getByTestId("server-status").first().innerText()).toBe("Pending");

    const list = (await api("/ocore.api.v1.ServerService/ListServers", {})) as { servers: { id: string }[] };
    serverId = list.servers[0]?.id ?? "";
    const enrollment = (await api("/ocore.api.v1.EnrollmentTokenService/CreateEnrollmentToken", {
      serverId,
    })) as { token: string; gatewayAddress: string };
    agent = await startAgent({ ...enrollment, intervalSeconds: 2 });

    // No reload: the row changes when the agent connects and its samples arrive.
    await expect
      .poll(() => page.getByTestId("server-status").first().innerText(), { timeout: 30_000 })
      .toBe("Active");
    await page.getByTestId("usage-glance").first().waitFor({ timeout: 15_000 });
    await page.getByTestId("live-indicator").first().waitFor();
    await shot("servers");
  });

  it("draws the server's charts from its real samples, for the range in the URL", async () => {
    await timed("navigation Servers → server detail", async () => {
      await page.getByTestId("server-name").first().click();
      await page.waitForURL(new RegExp(`/servers/${serverId}$`));
      await page.getByTestId("server-title").waitFor();
    });
    expect(await page.getByTestId("fact-hostname").innerText()).not.toBe("Not reported yet");
    // Charts fill in as samples arrive: at least two points of CPU and per-core data.
    for (const chart of [
      "chart-cpu",
      "chart-cores",
      "chart-load",
      "chart-memory",
      "chart-filesystems",
      "chart-network",
    ]) {
      await expect
        .poll(async () => Number(await page.getByTestId(chart).getAttribute("data-points")), {
          timeout: 30_000,
        })
        .toBeGreaterThanOrEqual(2);
      // uPlot drew on its canvas.
      await page.getByTestId(chart).locator("canvas").waitFor();
    }
    await shot("server-detail");
    await page.emulateMedia({ colorScheme: "dark" });
    await shot("server-detail-dark");
    await page.setViewportSize(PHONE);
    await shot("server-detail-phone");
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize(DESKTOP);

    await page.getByTestId("range-24h").click();
    await page.waitForURL(/\?range=24h$/);
    // Per-device charts read raw samples; the 24-hour CPU chart waits for the first 1-minute rollup.
    await page.getByTestId("chart-cores").locator("canvas").waitFor();
    await timed("first load of /servers/[id]?range=24h (reload, until the charts draw)", async () => {
      await page.reload();
      await page.getByTestId("chart-cores").locator("canvas").waitFor();
    });
    expect(await page.getByTestId("range-24h").getAttribute("aria-pressed")).toBe("true");

    await page.goto(`${server.url}/servers/${serverId}?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`);
    expect(await page.getByTestId("range-problem").innerText()).toMatch(/start before it ends/);
    await page.goto(`${server.url}/servers/00000000-0000-4000-8000-000000000000`);
    await page.getByTestId("server-not-found").waitFor();
  });

  it("creates a user and a token, shown once, and revokes the token", async () => {
    await timed("first load of /admin/users", async () => {
      await page.goto(`${server.url}/admin/users`);
      await page.getByTestId("user-row").first().waitFor();
    });
    await page.getByTestId("new-username").fill("alice");
    await page.getByTestId("create-user-form").getByTestId("binding-role").selectOption("operator");
    await page.getByTestId("create-user-form").getByTestId("binding-selector").fill("env=e2e");
    await page.getByTestId("create-user").click();
    const oneTime = await page.getByTestId("user-created").getByTestId("secret-value").innerText();
    expect(oneTime.length).toBeGreaterThanOrEqual(12);
    await expect.poll(() => page.getByTestId("user-name").allInnerTexts()).toContain("alice");
    await shot("admin-users");

    // The same name again is refused with what to do.
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByTestId("new-username").fill("alice");
    await page.getByTestId("create-user").click();
    expect(await page.getByTestId("action-error").innerText()).toMatch(
      /Could not create the user: .*\. Choose another name\./,
    );

    await timed("navigation Users → API tokens", async () => {
      await page.getByRole("link", { name: "API tokens" }).click();
      await page.getByTestId("tokens-empty").waitFor();
    });
    await page.getByTestId("token-name").fill("ci-deploy");
    await page.getByTestId("create-token").click();
    const secret = await page.getByTestId("token-created").getByTestId("secret-value").innerText();
    expect(secret.length).toBeGreaterThan(20);
    await shot("admin-tokens");
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByTestId("revoke-token").click();
    await page.getByTestId("confirm-button").click();
    await page.getByTestId("tokens-empty").waitFor();
  });

  it("shows it all in the audit log, filters it in the URL and verifies the chain", async () => {
    await timed("navigation API tokens → Audit log", async () => {
      await page.getByRole("link", { name: "Audit log" }).click();
      await page.getByTestId("audit-entry").first().waitFor();
    });
    const actions = await page.getByTestId("audit-action").allInnerTexts();
    for (const action of [
      "token.revoke",
      "token.create",
      "user.create",
      "server.enrollment_token.create",
      "server.import",
    ]) {
      expect(
        actions.some((text) => text.startsWith(action)),
        `${action} in ${actions.join(" | ")}`,
      ).toBe(true);
    }
    await page.getByTestId("verify-chain").click();
    expect(await page.getByTestId("chain-result").innerText()).toMatch(
      /The chain is intact: \d+ entries checked/,
    );
    await shot("admin-audit");

    await page.getByTestId("filter-action").fill("token.create");
    await page.getByTestId("apply-filters").click();
    await page.waitForURL(/\/admin\/audit\?action=token\.create$/);
    await expect
      .poll(() => page.getByTestId("audit-action").allInnerTexts())
      .toEqual([expect.stringMatching(/^token\.create/)]);
    const download = page.waitForEvent("download");
    await page.getByTestId("export-csv").click();
    expect((await download).suggestedFilename()).toMatch(/^ocore-audit-.*\.csv$/);
    expect(pageErrors).toEqual([]);
  });
});
