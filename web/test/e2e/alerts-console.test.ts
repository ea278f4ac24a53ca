import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./support/browser.js";
import { type ControlServer, startControlServer } from "./support/control-server.js";
import { signInFirstAdmin } from "./support/session.js";

/**
 * The alert pages: the list is live (WatchAlerts), a channel is added and sent a test that a
 * real HTTP receiver gets, and a maintenance window is scheduled and ended.
 */
describe("the alert console", () => {
  let server: ControlServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let receiver: http.Server;
  const received: Array<{ event: string; body: string }> = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    receiver = http.createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        received.push({ event: String(request.headers["x-ocore-event"]), body });
        response.end("ok");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
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
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it("shows the alert list live, adds a webhook channel and sends it a test", async () => {
    await page.goto(`${server.url}/alerts`);
    await page.locator('[data-testid="alerts-live"][data-state="live"]').waitFor();
    await page.getByTestId("alerts-empty").waitFor();

    await page.getByRole("link", { name: "Channels" }).click();
    await page.getByTestId("create-channel-form").waitFor();
    await page.getByTestId("channel-name").fill("ops hook");
    const { port } = receiver.address() as AddressInfo;
    await page.getByTestId("channel-url").fill(`http://127.0.0.1:${port}/hook`);
    await page.getByTestId("channel-secret").fill("a-signing-secret-of-some-length");
    await page.getByTestId("create-channel").click();
    const row = page.getByTestId("channel-row").filter({ hasText: "ops hook" });
    await row.waitFor();
    await row.getByTestId("channel-test").click();
    await expect
      .poll(
        () =>
          row
            .getByTestId("channel-test-result")
            .textContent()
            .catch(() => ""),
        { timeout: 15_000 },
      )
      .toMatch(/^Delivered: http:\/\/127\.0\.0\.1:\d+\/hook answered 200/);
    expect(received.map((r) => r.event)).toEqual(["test"]);
    // The secret is never shown again.
    expect(await page.content()).not.toContain("a-signing-secret-of-some-length");

    // An e-mail channel from the form, to an SMTP port where nothing listens: its test fails, said so.
    await page.getByTestId("channel-kind").selectOption("email");
    await page.getByTestId("channel-name").fill("ops mail");
    await page.getByTestId("channel-url").fill("127.0.0.1");
    await page.getByTestId("channel-smtp-port").fill("1");
    await page.getByTestId("channel-smtp-security").selectOption("none");
    await page.getByTestId("channel-smtp-from").fill("ocore@example.com");
    await page.getByTestId("channel-extra").fill("ops@example.com");
    await page.getByTestId("create-channel").click();
    const mail = page.getByTestId("channel-row").filter({ hasText: "ops mail" });
    await mail.waitFor();
    await mail.getByTestId("channel-test").click();
    await expect
      .poll(
        () =>
          mail
            .getByTestId("channel-test-result")
            .textContent()
            .catch(() => ""),
        { timeout: 30_000 },
      )
      .toMatch(/^Failed: /);

    // The delivery log shows both attempts with their channel and outcome.
    await page
      .getByRole("navigation", { name: "Alerts" })
      .getByRole("link", { name: "Delivery log" })
      .click();
    await page.getByTestId("delivery-log").waitFor();
    const rows = page.getByTestId("delivery-row");
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
    expect(await rows.filter({ hasText: "ops hook" }).getByTestId("delivery-outcome").textContent()).toBe(
      "delivered",
    );
    expect(await rows.filter({ hasText: "ops mail" }).getByTestId("delivery-outcome").textContent()).toBe(
      "failed",
    );
  });

  it("schedules a maintenance window and ends it", async () => {
    await page.getByRole("link", { name: "Silences and maintenance" }).click();
    await page.getByTestId("silences-empty").waitFor();
    await page.getByTestId("silence-kind").selectOption("maintenance");
    await page.getByTestId("silence-selector").fill("env=prod");
    await page.getByTestId("silence-comment").fill("kernel upgrade");
    await page.getByTestId("create-silence").click();
    const row = page.getByTestId("silence-row").filter({ hasText: "kernel upgrade" });
    await row.waitFor();
    expect(await row.textContent()).toContain("maintenance");
    await row.getByTestId("silence-end").click();
    await page.getByTestId("silences-empty").waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("asks the diagnosis page a question and shows why it cannot answer without a server", async () => {
    await page.getByRole("link", { name: "Diagnose" }).click();
    await page.getByTestId("diagnose-question").fill("why is web-1 slow?");
    await page.getByTestId("diagnose-submit").click();
    expect(await page.getByTestId("action-error").innerText()).toMatch(
      /Could not diagnose: server_ids: name the servers/,
    );
    expect(pageErrors).toEqual([]);
  });
});
