import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The stand-in instance images (busybox httpd on Odoo's ports; no registry here), as the full flow uses them.
import { ensureInstanceTestImages } from "../../../agent/src/test/instance-test-images.js";
import { agentGatewayEnv, freePort, type RunningAgent, startAgent } from "./support/agent.js";
import { launchBrowser } from "./support/browser.js";
import { type ControlServer, startControlServer } from "./support/control-server.js";
import { callApi, signInFirstAdmin } from "./support/session.js";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The instance page's Health panel, live: a real agent checks a real instance (the stand-in
 * images, Odoo 15 by its ODOO_VERSION) every second; its health endpoint is made to fail inside
 * the container and the open page turns it critical with what to do, then back to OK.
 */
describe("the instance health panel", () => {
  let server: ControlServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let agent: RunningAgent | undefined;
  let instanceId = "";
  const name = `h16-health-${randomBytes(2).toString("hex")}`;
  const pageErrors: string[] = [];
  const api = (path: string, body: unknown) => callApi(context, server.url, path, body);

  async function until<T>(
    what: string,
    probe: () => Promise<T | undefined>,
    timeoutMs = 120_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(300);
    }
  }

  beforeAll(async () => {
    const port = await freePort();
    [server, browser] = await Promise.all([startControlServer(agentGatewayEnv(port)), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await signInFirstAdmin(context, server);
    await api("/ocore.api.v1.ServerService/ImportServers", {
      format: "DATA_FORMAT_JSON",
      data: Buffer.from(JSON.stringify([{ name: "health-host", host: "127.0.0.1" }])).toString("base64"),
    });
    const list = (await api("/ocore.api.v1.ServerService/ListServers", {})) as { servers: { id: string }[] };
    const serverId = list.servers[0]?.id ?? "";
    const enrollment = (await api("/ocore.api.v1.EnrollmentTokenService/CreateEnrollmentToken", {
      serverId,
    })) as { token: string; gatewayAddress: string };
    agent = await startAgent({
      ...enrollment,
      intervalSeconds: 30,
      env: { OCORE_AGENT_CHECK_INTERVAL_SECONDS: "1", OCORE_AGENT_START_CHECK_MINUTES: "0" },
    });
    await until("the server to be active", async () => {
      const found = (await api("/ocore.api.v1.ServerService/GetServer", { id: serverId })) as {
        server?: { status?: string };
      };
      return found.server?.status === "SERVER_STATUS_ACTIVE" || found.server?.status === "active"
        ? true
        : undefined;
    });
    const images = await ensureInstanceTestImages();
    const created = (await api("/ocore.api.v1.InstanceService/CreateInstance", {
      serverId,
      name,
      odooImage: images.odoo,
      postgresImage: images.postgres,
      mailpitImage: images.mailpit,
      environment: { ODOO_VERSION: "15.0" },
    })) as { instance: { id: string } };
    instanceId = created.instance.id;
  }, 240_000);

  afterAll(async () => {
    if (instanceId)
      await api("/ocore.api.v1.InstanceService/DeleteInstance", { id: instanceId }).catch(() => undefined);
    await sleep(5_000);
    await agent?.stop();
    const prefix = `ocore-${name}`;
    await run("docker", ["rm", "-f", "-v", `${prefix}-odoo`, `${prefix}-mail`, `${prefix}-db`]).catch(
      () => undefined,
    );
    await run("docker", ["network", "rm", prefix]).catch(() => undefined);
    await run("docker", ["volume", "rm", `${prefix}-db`, `${prefix}-data`, `${prefix}-config`]).catch(
      () => undefined,
    );
    await context?.close();
    await browser?.close();
    await server?.stop();
  }, 120_000);

  it("shows the instance's checks, a failing health endpoint as critical with what to do, and its recovery", {
    timeout: 240_000,
  }, async () => {
    await page.goto(`${server.url}/instances/${instanceId}`);
    await page.getByTestId("instance-title").waitFor({ timeout: 60_000 });
    const webRow = page.getByTestId("instance-check-row").filter({ hasText: "Web (health check)" });
    await webRow.waitFor({ timeout: 150_000 });
    await expect
      .poll(() => webRow.getByTestId("instance-check-state").innerText(), { timeout: 60_000 })
      .toBe("OK");
    expect(await page.getByTestId("instance-check-row").allInnerTexts()).toEqual([
      expect.stringMatching(/^Containers\s*OK/),
      expect.stringMatching(/^Web \(health check\)\s*OK/),
      expect.stringMatching(/^Real time\s*OK/),
      expect.stringMatching(/^Scheduled actions\s*Unknown/),
      expect.stringMatching(/^Mail queue\s*Unknown/),
    ]);

    await run("docker", ["exec", `ocore-${name}-odoo`, "mv", "/www/web/health", "/www/web/health.off"]);
    // The panel reads again every 10 s; the agent checks every second.
    await expect
      .poll(() => webRow.getByTestId("instance-check-state").innerText(), { timeout: 45_000 })
      .toBe("Critical");
    expect(await webRow.getByTestId("instance-check-message").innerText()).toMatch(
      /^\/web\/health on port \d+ fails: HTTP 404/,
    );
    expect(await webRow.innerText()).toContain(`Odoo of instance ${name} on health-host does not answer`);

    await run("docker", ["exec", `ocore-${name}-odoo`, "mv", "/www/web/health.off", "/www/web/health"]);
    await expect
      .poll(() => webRow.getByTestId("instance-check-state").innerText(), { timeout: 45_000 })
      .toBe("OK");
    expect(pageErrors).toEqual([]);
  });
});
