import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./support/browser.js";
import { type ControlServer, startControlServer } from "./support/control-server.js";
import { signInFirstAdmin } from "./support/session.js";

describe("the console served by the control server", () => {
  let server: ControlServer;
  let browser: Browser;
  // The overview is for signed-in users: every page of this suite shares one session.
  let context: BrowserContext;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startControlServer(), launchBrowser()]);
    context = await browser.newContext();
    await signInFirstAdmin(context, server);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
  });

  it("shows the server's own GetInfo answer, fetched from its own origin", async () => {
    const page = await context.newPage();
    const origins = new Set<string>();
    page.on("request", (request) => origins.add(new URL(request.url()).origin));
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));

    await page.goto(server.url);
    const version = page.getByTestId("server-version");
    await version.waitFor({ timeout: 30_000 });
    expect(await version.innerText()).toMatch(/^\d+\.\d+\.\d+/);
    expect(await page.getByTestId("database-kind").innerText()).toBe("Embedded PGlite");
    expect(await page.getByTestId("database-version").innerText()).toMatch(/PostgreSQL \d+/);
    expect(await page.getByTestId("node-version").innerText()).toMatch(/^v22\./);
    expect(await page.getByTestId("installation-id").innerText()).toMatch(/^[0-9a-f-]{36}$/);

    expect([...origins]).toEqual([new URL(server.url).origin]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it("says what to do when the API does not answer", async () => {
    const page = await context.newPage();
    await page.route("**/ocore.api.v1.SystemService/GetInfo", (route) => route.abort("connectionrefused"));
    await page.goto(server.url);
    const alert = page.getByTestId("server-info-error");
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.innerText()).toMatch(/did not answer/i);
    await page.unroute("**/ocore.api.v1.SystemService/GetInfo");
    await page.getByTestId("server-info-retry").click();
    await page.getByTestId("server-version").waitFor({ timeout: 30_000 });
    await page.close();
  });
});
