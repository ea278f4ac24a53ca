import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./support/agent.js";
import { launchBrowser } from "./support/browser.js";
import { type ControlServer, startControlServer } from "./support/control-server.js";
import { signInFirstAdmin } from "./support/session.js";

const SCREENSHOTS = new URL("../../../docs/screenshots/", import.meta.url).pathname;

/**
 * Adding a server through the form against the real provisioning worker: a host that does not
 * answer fails at the connect step with a reason the page shows with what to do, and the server
 * can then be removed (confirmed, in the background).
 */
describe("adding and removing a server", () => {
  let server: ControlServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    [server, browser] = await Promise.all([startControlServer(), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await signInFirstAdmin(context, server);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
  });

  it("refuses bad input in place, then shows the failed provisioning step and why", async () => {
    await page.goto(`${server.url}/servers`);
    await page.getByTestId("fleet-empty").waitFor();
    await page.getByTestId("add-server").click();
    await page.getByTestId("add-server-form").waitFor();

    // Nobody listens on this port: the connect step must fail.
    const closedPort = await freePort();
    await page.getByTestId("server-name-input").fill("unreachable-1");
    await page.getByTestId("server-host-input").fill("127.0.0.1");
    await page.getByTestId("server-port-input").fill(String(closedPort));
    await page.getByTestId("auth-password").check();
    await page.getByTestId("server-password-input").fill("not used");
    await page.getByTestId("server-tags-input").fill("env=e2e, Bad Key=x");
    expect(await page.getByTestId("server-tags-input").getAttribute("aria-invalid")).toBe("true");
    await page.getByTestId("server-tags-input").fill("env=e2e, role=web");
    await page.screenshot({ path: `${SCREENSHOTS}add-server.png`, fullPage: true });
    await page.getByTestId("add-server-submit").click();

    await page.waitForURL(/\/servers\/[0-9a-f-]{36}$/);
    await page.getByTestId("provisioning-panel").waitFor();
    const error = page.getByTestId("provisioning-error");
    await error.waitFor({ timeout: 60_000 });
    expect((await error.innerText()).length).toBeGreaterThan(20);
    expect(await page.getByTestId("provisioning-step").first().getAttribute("data-status")).toBe("failed");
    await page.getByTestId("retry-provisioning").waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}provisioning-failed.png`, fullPage: true });
  });

  it("removes the server after confirmation, in the background", { timeout: 120_000 }, async () => {
    await page.getByTestId("remove-server").click();
    await page.getByTestId("confirm-dialog").waitFor();
    await page.getByTestId("confirm-button").click();
    await page.getByTestId("server-removed").waitFor({ timeout: 60_000 });
    await page.getByRole("link", { name: "All servers" }).click();
    await page.getByTestId("fleet-empty").waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("gives a join command for a host it cannot reach, copied from the page as it works", async () => {
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
    await page.goto(`${server.url}/servers/new`);
    await page.getByTestId("add-server-join").check();
    await page.getByTestId("join-name-input").fill("behind-nat-1");
    await page.getByTestId("join-tags-input").fill("site=branch");
    expect(await page.getByTestId("join-url-input").inputValue()).toBe(new URL(server.url).origin);
    await page.getByTestId("join-server-submit").click();
    const shown = page.getByTestId("join-command-text");
    await shown.waitFor();
    const command = await shown.innerText();
    expect(command).toMatch(/^curl -sSL http:\/\/\S+\/join\/[A-Za-z0-9_-]{43} \| sudo sh$/);
    await page.getByTestId("join-command-text-copy").click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(command);
    await page.getByTestId("join-status").waitFor();
    expect(await page.getByTestId("join-status").getAttribute("data-status")).toBe("pending");
    await page.screenshot({ path: `${SCREENSHOTS}join-from-the-host.png`, fullPage: true });

    // What the host would download: the filled-in join script, whose SHA-256 the second form checks.
    const url = /curl -sSL (\S+) \|/.exec(command)?.[1] ?? "";
    const script = await (await fetch(url)).text();
    expect(script).toContain("# BEGIN JOIN PARAMETERS\njoin_url='");
    const verified = await page.getByTestId("join-verified-command-text").innerText();
    const digest = createHash("sha256").update(script).digest("hex");
    expect(verified).toContain(`echo '${digest}  ocore-join.sh' | sha256sum -c -`);
    expect(pageErrors).toEqual([]);
  });
});
