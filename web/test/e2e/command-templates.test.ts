import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentGatewayEnv, freePort, type RunningAgent, startAgent } from "./support/agent.js";
import { launchBrowser } from "./support/browser.js";
import { type ControlServer, startControlServer } from "./support/control-server.js";
import { ADMIN_PASSWORD, callApi, signInFirstAdmin } from "./support/session.js";

/**
 * The command assistant in the console, with a real agent on this host: one user writes a
 * template (a refused field is shown where it is), a second user approves it (the author
 * cannot), the run's preview shows the exact argv, and the live run page shows the host's output.
 */
describe("command templates in the console", () => {
  let server: ControlServer;
  let browser: Browser;
  let admin: BrowserContext;
  let reviewer: BrowserContext;
  let page: Page;
  let agent: RunningAgent | undefined;
  let templateUrl = "";
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    [server, browser] = await Promise.all([startControlServer(agentGatewayEnv(port)), launchBrowser()]);
    admin = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    reviewer = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await admin.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await signInFirstAdmin(admin, server);
    const api = (path: string, body: unknown) => callApi(admin, server.url, path, body);
    const created = (await api("/ocore.api.v1.UserService/CreateUser", {
      username: "second-eyes",
      roleBindings: [{ role: "admin", selector: "" }],
    })) as { oneTimePassword: string };
    await callApi(reviewer, server.url, "/ocore.api.v1.AuthService/Login", {
      username: "second-eyes",
      password: created.oneTimePassword,
    });
    await callApi(reviewer, server.url, "/ocore.api.v1.AuthService/ChangePassword", {
      currentPassword: created.oneTimePassword,
      newPassword: ADMIN_PASSWORD,
    });
    await api("/ocore.api.v1.ServerService/ImportServers", {
      format: "DATA_FORMAT_JSON",
      data: Buffer.from(
        JSON.stringify([{ name: "tpl-host", host: "127.0.0.1", tags: { env: "e2e" } }]),
      ).toString("base64"),
    });
    const list = (await api("/ocore.api.v1.ServerService/ListServers", {})) as { servers: { id: string }[] };
    const enrollment = (await api("/ocore.api.v1.EnrollmentTokenService/CreateEnrollmentToken", {
      serverId: list.servers[0]?.id,
    })) as { token: string; gatewayAddress: string };
    agent = await startAgent({ ...enrollment, intervalSeconds: 30 });
  });
  afterAll(async () => {
    await agent?.stop();
    await admin?.close();
    await reviewer?.close();
    await browser?.close();
    await server?.stop();
  });

  it("creates a template, showing a refused field inline, and the author cannot approve it", async () => {
    await page.goto(`${server.url}/templates`);
    await page.getByTestId("template-card").first().waitFor();
    await page.getByTestId("new-template").click();
    await page.getByTestId("template-key").fill("disk-report");
    await page.getByTestId("template-name-input").fill("disk report for {arch}");
    await page.getByTestId("template-script").fill('printf "arch=%s path=%s\\n" "$OCORE_ARCH" "$1"');
    await page.getByTestId("template-argv").fill("{path}");
    await page.getByTestId("add-parameter").click();
    await page.getByTestId("parameter-name").fill("path");
    await page.getByTestId("parameter-pattern").fill("/[a-z/]*");
    await page.getByTestId("parameter-default").fill("/");
    await page.getByTestId("template-timeout").fill("0");
    await page.getByTestId("save-template").click();
    // The server's refusal lands on the field it names.
    const timeoutError = page.getByText("must be at least 1", { exact: false }).first();
    await timeoutError.waitFor();
    await page.getByTestId("template-timeout").fill("30");
    await page.getByTestId("save-template").click();
    await page.getByTestId("template-title").waitFor();
    expect(await page.getByTestId("template-title").innerText()).toBe("disk report for {arch}");
    templateUrl = page.url();
    expect(await page.getByTestId("review-blocked").innerText()).toMatch(/four-eyes/);
    expect(await page.getByTestId("version-diff").innerText()).toContain("argv[0]: {path}");
  });

  it("is approved by a second user", async () => {
    const second = await reviewer.newPage();
    await second.goto(templateUrl);
    await second.getByTestId("review-note").fill("read the script");
    await second.getByTestId("approve-version").click();
    await expect
      .poll(() =>
        second
          .getByTestId("review-outcome")
          .innerText()
          .catch(() => ""),
      )
      .toMatch(/^approved by second-eyes/);
    await second.close();
  });

  it("previews the exact argv per host, runs it on the agent and shows the output live", async () => {
    await page.reload();
    await page.getByTestId("run-template").click();
    await page.getByTestId("param-path").fill("/var/$(id)");
    await page.getByTestId("run-selector").fill("env=e2e");
    // A value outside its pattern is named before anything is sent.
    expect(await page.getByTestId("param-path").getAttribute("aria-invalid")).toBe("true");
    await page.getByTestId("param-path").fill("/var/log");
    expect(await page.getByTestId("param-path").getAttribute("aria-invalid")).toBeNull();
    await page.getByTestId("preview-run").click();
    const host = page.getByTestId("preview-host");
    await host.waitFor();
    const argv = await host.getByTestId("preview-argv").innerText();
    expect(argv).toContain('"ocore-template"');
    expect(argv).toContain('"/var/log"');
    expect(await host.getByTestId("preview-env").innerText()).toContain('OCORE_PARAM_PATH="/var/log"');

    await page.getByTestId("run-concurrency").fill("1");
    await page.getByTestId("start-run").click();
    await page.waitForURL(/\/runs\/[0-9a-f-]+$/);
    await page.locator('[data-testid="run-state"][data-state="succeeded"]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("run-host-output").first().innerText()).toMatch(
      /^arch=\S+ path=\/var\/log\n?$/,
    );
    expect(await page.getByTestId("run-progress").innerText()).toContain("1 of 1 host done · 1 succeeded");

    await page.getByRole("link", { name: "← Runs" }).click();
    await page.getByTestId("run-row").first().waitFor();
    expect(await page.getByTestId("run-row").first().innerText()).toContain("disk report for {arch} v1");
    expect(pageErrors).toEqual([]);
  });
});
