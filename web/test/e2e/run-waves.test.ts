import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentGatewayEnv, freePort, type RunningAgent, startAgent } from "./support/agent.js";
import { launchBrowser } from "./support/browser.js";
import { type ControlServer, startControlServer } from "./support/control-server.js";
import { ADMIN_PASSWORD, callApi, signInFirstAdmin } from "./support/session.js";

const HOSTS = 3;

/**
 * A run with a canary and waves in the console, on three real agents on this host (decision
 * 0230): the form spells out the plan and names a bad canary on its field, the run pauses after
 * its canary with the waves shown, Resume lets the waves go on one after the other.
 */
describe("a canary and waves in the console", () => {
  let server: ControlServer;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  const agents: RunningAgent[] = [];
  let templateId = "";
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    [server, browser] = await Promise.all([startControlServer(agentGatewayEnv(port)), launchBrowser()]);
    admin = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const reviewer = await browser.newContext();
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
        JSON.stringify(
          Array.from({ length: HOSTS }, (_, i) => ({
            name: `wave-${i + 1}`,
            host: "127.0.0.1",
            tags: { env: "waves" },
          })),
        ),
      ).toString("base64"),
    });
    const list = (await api("/ocore.api.v1.ServerService/ListServers", {})) as { servers: { id: string }[] };
    for (const s of list.servers) {
      const enrollment = (await api("/ocore.api.v1.EnrollmentTokenService/CreateEnrollmentToken", {
        serverId: s.id,
      })) as { token: string; gatewayAddress: string };
      agents.push(await startAgent({ ...enrollment, intervalSeconds: 30 }));
    }
    const template = (await api("/ocore.api.v1.TemplateService/CreateTemplate", {
      key: "wave-hello",
      definition: {
        name: "hello per wave",
        type: "diagnostic",
        interpreter: "bash",
        script: "echo hello",
        runAs: "nobody",
        timeoutSeconds: 30,
      },
    })) as { template: { id: string; latest: { id: string; hash: string } } };
    templateId = template.template.id;
    await callApi(reviewer, server.url, "/ocore.api.v1.TemplateService/ApproveVersion", {
      versionId: template.template.latest.id,
      hash: template.template.latest.hash,
    });
    await reviewer.close();
    // Every agent is connected before the run (an offline canary host would fail the canary).
    for (let i = 0; ; i++) {
      const now = (await api("/ocore.api.v1.ServerService/ListServers", {})) as {
        servers: { status: string }[];
      };
      if (now.servers.filter((s) => s.status === "active").length === HOSTS) break;
      if (i > 120) throw new Error(`the agents did not connect: ${JSON.stringify(now.servers)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 180_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await admin?.close();
    await browser?.close();
    await server?.stop();
  });

  it("plans the waves in the form, pauses after the canary, and goes on in waves after Resume", async () => {
    await page.goto(`${server.url}/templates/${templateId}/run`);
    await page.getByTestId("run-selector").fill("env=waves");
    await page.getByTestId("preview-run").click();
    await expect.poll(() => page.getByTestId("preview-host").count()).toBe(HOSTS);

    // A canary as large as the whole target set is named on its field before anything is sent.
    await page.getByTestId("run-canary").fill("3");
    await page.getByText("would be every host (3)", { exact: false }).waitFor();
    expect(await page.getByTestId("run-canary").getAttribute("aria-invalid")).toBe("true");
    await page.getByTestId("run-canary").fill("1");
    await page.getByTestId("run-waves").fill("1");
    await page.getByTestId("run-canary-pause").check();
    await page.getByTestId("run-concurrency").fill("100%");
    expect(await page.getByTestId("run-wave-plan").innerText()).toBe(
      "Plan for 3 hosts: canary 1 host (all must succeed), then 2 waves of 1 · 1 hosts",
    );
    await page.getByTestId("start-run").click();
    await page.waitForURL(/\/runs\/[0-9a-f-]+$/);

    await page.locator('[data-testid="run-state"][data-state="paused"]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("run-stop-reason").innerText()).toBe(
      "paused after the canary: all 1 canary hosts succeeded; resume to start wave 2 of 3",
    );
    const waveStates = () =>
      page.getByTestId("run-wave").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-state")));
    expect(await waveStates()).toEqual(["paused", "waiting", "waiting"]);
    await page.screenshot({
      path: new URL("../../../docs/screenshots/run-canary-paused.png", import.meta.url).pathname,
    });
    expect(await page.getByTestId("run-wave").first().innerText()).toContain("Canary");
    expect(await page.getByTestId("run-progress").innerText()).toContain("1 of 3 hosts done · 1 succeeded");

    await page.getByTestId("resume-run").click();
    await page.locator('[data-testid="run-state"][data-state="succeeded"]').waitFor({ timeout: 60_000 });
    expect(await waveStates()).toEqual(["done", "done", "done"]);
    expect(await page.getByTestId("resume-run").count()).toBe(0);
    expect(await page.getByTestId("run-groups").innerText()).toContain("3 hosts");

    // Who resumed it is in the audit log.
    const audit = (await callApi(admin, server.url, "/ocore.api.v1.AuditService/ListAuditEntries", {})) as {
      entries: { action: string; actorName: string }[];
    };
    expect(audit.entries.find((e) => e.action === "run.resume")?.actorName).toBe("admin");
    expect(pageErrors).toEqual([]);
  });
});
