import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./support/browser.js";
import { type ControlServer, startControlServer } from "./support/control-server.js";
import { callApi, signInFirstAdmin } from "./support/session.js";

/**
 * The audit page follows the log (AuditService/FollowAuditLog): changes made through the API by
 * someone else appear on the open page without a reload, within its filters, and not while paused.
 */
describe("the live audit log", () => {
  let server: ControlServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
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

  const api = (path: string, body: unknown) => callApi(context, server.url, path, body);
  const createUser = (username: string) =>
    api("/ocore.api.v1.UserService/CreateUser", {
      username,
      roleBindings: [{ role: "viewer", selector: "" }],
    });
  const actions = () => page.getByTestId("audit-action").allInnerTexts();
  /** Set once per document: still there means the page was not reloaded. */
  const markDocument = () => page.evaluate(() => Object.assign(window, { auditMarker: true }));
  const sameDocument = () => page.evaluate(() => "auditMarker" in window);

  it("shows a change made elsewhere as it is written, without a reload", async () => {
    await page.goto(`${server.url}/admin/audit`);
    await page.getByTestId("audit-list").waitFor();
    await page.locator('[data-testid="audit-live"][data-state="live"]').waitFor();
    await markDocument();
    const userCreations = () => page.getByTestId("audit-entry").filter({ hasText: "user.create" }).count();
    // The first admin's own creation, by the system.
    const before = await userCreations();

    await createUser("live-watcher");
    await expect.poll(userCreations, { timeout: 15_000 }).toBe(before + 1);
    // Newest first: the new entry leads the list.
    expect((await actions())[0]).toMatch(/^user\.create/);
    expect(await sameDocument()).toBe(true);
  });

  it("keeps to the page's filters, and holds entries back while paused", async () => {
    await page.goto(`${server.url}/admin/audit?action=token.`);
    await page.locator('[data-testid="audit-live"][data-state="live"]').waitFor();
    await page.getByTestId("audit-empty").waitFor();
    await markDocument();

    await createUser("not-shown");
    await api("/ocore.api.v1.ApiTokenService/CreateApiToken", { name: "ci-one", role: "viewer", ttlDays: 1 });
    await expect.poll(actions, { timeout: 15_000 }).toEqual([expect.stringMatching(/^token\.create/)]);

    await page.getByTestId("audit-pause").click();
    await page.locator('[data-testid="audit-live"][data-state="paused"]').waitFor();
    await api("/ocore.api.v1.ApiTokenService/CreateApiToken", { name: "ci-two", role: "viewer", ttlDays: 1 });
    // Long enough for the shared ticker (1 s) to have sent it, were the page still following.
    await page.waitForTimeout(3_000);
    expect(await actions()).toHaveLength(1);

    await page.getByTestId("audit-pause").click();
    await expect.poll(actions, { timeout: 15_000 }).toHaveLength(2);
    expect((await actions()).every((action) => action.startsWith("token.create"))).toBe(true);
    expect(await sameDocument()).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
