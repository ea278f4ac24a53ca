import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentGatewayEnv, freePort, type RunningAgent, startAgent } from "./support/agent.js";
import { launchBrowser } from "./support/browser.js";
import { type ControlServer, startControlServer } from "./support/control-server.js";
import { callApi, signInFirstAdmin } from "./support/session.js";

/**
 * The fleet's "Run on these" and ad-hoc commands (decision 0231) with a real agent on this host:
 * servers ticked in the fleet reach the command and template forms picked; a denied script is
 * explained and cannot be started; an allowed one runs on the agent and its output shows.
 */
describe("ad-hoc commands and Run on these", () => {
  let server: ControlServer;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  let agent: RunningAgent | undefined;
  let serverId = "";
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    [server, browser] = await Promise.all([startControlServer(agentGatewayEnv(port)), launchBrowser()]);
    admin = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await admin.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await signInFirstAdmin(admin, server);
    const api = (path: string, body: unknown) => callApi(admin, server.url, path, body);
    await api("/ocore.api.v1.ServerService/ImportServers", {
      format: "DATA_FORMAT_JSON",
      data: Buffer.from(
        JSON.stringify([
          { name: "adhoc-1", host: "127.0.0.1", tags: { env: "adhoc" } },
          { name: "not-picked", host: "10.0.0.9", tags: { env: "other" } },
        ]),
      ).toString("base64"),
    });
    const list = (await api("/ocore.api.v1.ServerService/ListServers", {})) as {
      servers: { id: string; name: string; status: string }[];
    };
    serverId = list.servers.find((s) => s.name === "adhoc-1")?.id ?? "";
    const enrollment = (await api("/ocore.api.v1.EnrollmentTokenService/CreateEnrollmentToken", {
      serverId,
    })) as { token: string; gatewayAddress: string };
    agent = await startAgent({ ...enrollment, intervalSeconds: 30 });
    // A built-in template written by "system", so this admin may approve it (four eyes hold).
    const templates = (await api("/ocore.api.v1.TemplateService/ListTemplates", {})) as {
      templates: { key: string; latest: { id: string; hash: string } }[];
    };
    const builtin = templates.templates.find((t) => t.key.startsWith("builtin."));
    await api("/ocore.api.v1.TemplateService/ApproveVersion", {
      versionId: builtin?.latest.id,
      hash: builtin?.latest.hash,
    });
    for (let i = 0; ; i++) {
      const now = (await api("/ocore.api.v1.ServerService/ListServers", {})) as typeof list;
      if (now.servers.find((s) => s.id === serverId)?.status === "active") break;
      if (i > 120) throw new Error("the agent did not connect");
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 180_000);
  afterAll(async () => {
    await agent?.stop();
    await admin?.close();
    await browser?.close();
    await server?.stop();
  });

  const tickInFleet = async () => {
    await page.goto(`${server.url}/servers`);
    const row = page.getByTestId("server-row").filter({ hasText: "adhoc-1" });
    await row.getByTestId("server-select").check();
    expect(await page.getByTestId("fleet-selection-count").innerText()).toBe("1 server selected");
  };

  it("takes the servers ticked in the fleet to a template's run form", async () => {
    await tickInFleet();
    await page.getByTestId("run-template-on-selection").click();
    await page.waitForURL(/\/templates\?servers=/);
    expect(await page.getByTestId("template-pick-for").innerText()).toContain("1 server you selected");
    await page.getByTestId("template-run-link").first().click();
    await page.waitForURL(new RegExp(`/run\\?servers=${serverId}$`));
    const picker = page.getByTestId("run-server-picker");
    await picker.getByText("adhoc-1").waitFor();
    expect(await picker.getByRole("checkbox", { name: /adhoc-1/ }).isChecked()).toBe(true);
    expect(await picker.getByRole("checkbox", { name: /not-picked/ }).isChecked()).toBe(false);
  });

  it("explains a denied script and will not start it, then runs an allowed one on the agent", async () => {
    await tickInFleet();
    await page.getByTestId("run-adhoc-on-selection").click();
    await page.waitForURL(/\/runs\/adhoc\?servers=/);
    await page.getByTestId("adhoc-script").fill("cd /tmp\nrm -rf /\n");
    const violation = page.getByTestId("adhoc-violation");
    await violation.waitFor();
    expect(await violation.getAttribute("data-rule")).toBe("recursive-delete-of-system-path");
    expect(await violation.innerText()).toContain("rm -rf /: deletes the root or a system directory");
    expect(await page.getByTestId("adhoc-script").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByTestId("start-adhoc").getAttribute("aria-disabled")).toBe("true");
    await page.getByTestId("start-adhoc").click({ force: true });
    await page.waitForTimeout(500);
    expect(page.url()).toContain("/runs/adhoc");
    const runs = (await callApi(admin, server.url, "/ocore.api.v1.RunService/ListRuns", {})) as {
      runs?: unknown[];
    };
    expect(runs.runs ?? []).toEqual([]);

    await page.getByTestId("adhoc-script").fill("echo adhoc-ok");
    await expect.poll(() => page.getByTestId("adhoc-violation").count()).toBe(0);
    expect(await page.getByTestId("start-adhoc").innerText()).toBe("Run on 1 host");
    await page.getByTestId("start-adhoc").click();
    await page.waitForURL(/\/runs\/[0-9a-f-]+$/);
    await page.locator('[data-testid="run-state"][data-state="succeeded"]').waitFor({ timeout: 60_000 });
    expect(await page.getByRole("heading", { level: 1 }).innerText()).toContain("ad-hoc: echo adhoc-ok");
    expect(await page.getByTestId("run-host-output").first().innerText()).toMatch(/^adhoc-ok\n?$/);
    expect(await page.getByTestId("run-progress").innerText()).toContain("1 of 1 host done · 1 succeeded");
    expect(pageErrors).toEqual([]);
  });
});
