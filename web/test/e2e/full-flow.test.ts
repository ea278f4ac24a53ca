import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { promisify } from "node:util";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentGatewayEnv, freePort } from "./support/agent.js";
import { launchBrowser } from "./support/browser.js";
import { type ControlServer, startControlServer } from "./support/control-server.js";
import { type ManagedHost, startManagedHost } from "./support/managed-host.js";
import { ADMIN, ADMIN_PASSWORD, firstAdminPassword } from "./support/session.js";

const SCREENSHOTS = new URL("../../../docs/screenshots/", import.meta.url).pathname;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const SLOW = { timeout: 120_000 };
const run = promisify(execFile);
const INSTANCE = `shop-${Date.now().toString(36)}`;
const RESTORED = `${INSTANCE}-copy`;

/** Waits until the state badge in `scope` reads `expected`; a failed instance ends the wait with its reason. */
async function waitForInstanceState(scope: Locator, expected: string, timeoutMs = 100_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let state = "";
  while (Date.now() < until) {
    state = await scope.getByTestId("instance-state").first().innerText();
    if (state === expected) return;
    if (state === "Failed") throw new Error(`the instance failed: ${await scope.innerText()}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the instance is still ${state} after ${timeoutMs} ms, not ${expected}`);
}

/**
 * The operator's whole first hour, in the browser only, against real parts: the built control
 * server with its console and embedded database, a real sshd on loopback as the host, the real
 * provisioning worker installing the real agent executable under sudo, the agent's mTLS stream
 * bringing this machine's metrics, and the real Docker daemon running the instance.
 *
 * sign in → change the one-time password → add the host with an uploaded key → confirm its host
 * key and requirement verdicts → it becomes active and its charts draw real samples → create an
 * instance → it runs and answers on its port; stop, start, logs, backup → the audit log shows it
 * all → delete the instance and remove the server.
 */
describe("the operator's first hour, in the browser", () => {
  let host: ManagedHost;
  let server: ControlServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let serverPath = "";
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    host = await startManagedHost();
    const gatewayPort = await freePort();
    [server, browser] = await Promise.all([
      startControlServer({
        ...agentGatewayEnv(gatewayPort),
        OCORE_AGENT_INSTALL_PREFIX: host.installPrefix,
        OCORE_METRICS_INTERVAL_SECONDS: "2",
        OCORE_PROVISIONING_AGENT_WAIT_SECONDS: "90",
        OCORE_INSTANCE_ODOO_IMAGE: host.images.odoo,
        OCORE_INSTANCE_POSTGRES_IMAGE: host.images.postgres,
        OCORE_INSTANCE_MAILPIT_IMAGE: host.images.mailpit,
      }),
      launchBrowser(),
    ]);
    context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
  }, 180_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
    await host?.cleanUp([INSTANCE, RESTORED]);
  }, 120_000);

  const shot = (name: string) => page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
  const textOf = (testId: string) => page.getByTestId(testId).first().innerText();
  const rowOf = (name: string) =>
    page
      .getByTestId("instance-row")
      .filter({ has: page.getByTestId("instance-link").getByText(name, { exact: true }) });

  it("signs in with the one-time password and replaces it", async () => {
    await page.goto(`${server.url}/`);
    await page.waitForURL(/\/sign-in/);
    await page.getByLabel("Username").fill(ADMIN);
    await page.getByLabel("Password").fill(firstAdminPassword(server));
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/change-password/);
    await page.getByLabel("One-time password").fill(firstAdminPassword(server));
    await page.getByLabel("New password", { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByLabel("Repeat the new password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Save password" }).click();
    await page.waitForURL(/\/$/);
    expect(await textOf("user-menu")).toContain(ADMIN);
  });

  it("adds the loopback host with an uploaded key; it becomes active and its charts draw", SLOW, async () => {
    await page.getByRole("link", { name: "Servers" }).click();
    await page.getByTestId("fleet-empty").waitFor();
    await page.getByTestId("add-server").click();
    await page.getByTestId("server-name-input").fill("loopback-host");
    await page.getByTestId("server-host-input").fill(host.sshd.host);
    await page.getByTestId("server-port-input").fill(String(host.sshd.port));
    await page.getByTestId("server-user-input").fill(host.username);
    await page.getByTestId("key-file").setInputFiles(host.keyFile);
    await expect.poll(() => page.getByTestId("key-text").inputValue()).toMatch(/BEGIN OPENSSH PRIVATE KEY/);
    await page.getByTestId("server-tags-input").fill("env=e2e, role=odoo");
    await page.getByTestId("add-server-submit").click();
    await page.waitForURL(/\/servers\/[0-9a-f-]{36}$/);
    serverPath = new URL(page.url()).pathname;

    // The key oCore pinned is the one this sshd has; every requirement got a verdict.
    await expect
      .poll(
        () =>
          page
            .getByTestId("host-key")
            .innerText()
            .catch(() => ""),
        { timeout: 60_000 },
      )
      .toContain(host.sshd.hostKeyFingerprint());
    await page.getByTestId("verdict").first().waitFor({ timeout: 60_000 });
    const verdicts = await page
      .getByTestId("verdict")
      .evaluateAll((rows) =>
        rows.map((row) => ({ text: row.textContent ?? "", verdict: row.getAttribute("data-verdict") })),
      );
    expect(verdicts.map((v) => v.text).join(" | ")).toMatch(/Docker/);
    expect(verdicts.every((v) => ["pass", "warn", "fail"].includes(v.verdict ?? ""))).toBe(true);

    // Debian 12's docker.io (20.10) is older than the product asks for: the operator sees why,
    // accepts it explicitly, and retries. On a host with a current Docker nothing fails.
    const failing = verdicts.filter((v) => v.verdict === "fail");
    if (failing.length > 0) {
      await page.getByTestId("provisioning-error").waitFor();
      await shot("provisioning-verdicts");
      expect(failing.map((v) => v.text).join(" | ")).toMatch(/Docker/);
      for (const box of await page.getByRole("checkbox").all()) await box.check();
      await page.getByTestId("retry-provisioning").click();
    }

    await expect
      .poll(() => textOf("server-status").catch(() => ""), { timeout: 110_000, interval: 500 })
      .toBe("Active");
    for (const chart of ["chart-cpu", "chart-cores", "chart-memory", "chart-filesystems", "chart-network"]) {
      await expect
        .poll(async () => Number(await page.getByTestId(chart).getAttribute("data-points")), {
          timeout: 45_000,
        })
        .toBeGreaterThanOrEqual(2);
      await page.getByTestId(chart).locator("canvas").waitFor();
    }
    await shot("server-onboarded");
  });

  it("creates an instance that runs and answers on its ports", SLOW, async () => {
    await page.getByRole("link", { name: "Instances", exact: true }).click();
    await page.getByTestId("instances-empty").waitFor();
    await page.getByTestId("instance-name").fill(INSTANCE);
    await page.getByTestId("create-instance").click();
    // Odoo's master password is shown once.
    const secret = await page.getByTestId("instance-created").getByTestId("secret-value").innerText();
    expect(secret.length).toBeGreaterThanOrEqual(16);
    await page.getByRole("button", { name: "Done" }).click();

    const row = rowOf(INSTANCE);
    await waitForInstanceState(row, "Running");
    const web = row.getByTestId("link-odoo");
    const href = (await web.getAttribute("href")) ?? "";
    expect(href).toMatch(/^http:\/\/127\.0\.0\.1:100\d0\/$/);
    const answer = await fetch(href);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain("odoo stand-in");
    // Mailpit is on the server's loopback only (decision 0140): shown with its tunnel, not as a link.
    const mailpit = row.getByTestId("port-mailpit");
    expect(Number(await mailpit.getAttribute("data-port"))).toBe(Number(new URL(href).port) + 2);
    expect(await mailpit.innerText()).toContain("ssh -L");
    expect(await row.getByTestId("link-mailpit").count()).toBe(0);
    await shot("instances");

    await row.getByTestId("instance-link").click();
    await page.waitForURL(/\/instances\/[0-9a-f-]{36}$/);
    await page.getByTestId("instance-title").waitFor();
    await expect
      .poll(() => page.getByTestId("log-lines").innerText(), { timeout: 30_000 })
      .toContain("odoo stand-in serving on 8069 and 8072");
  });

  it("stops, starts and backs the instance up", SLOW, async () => {
    const header = page.locator("header").filter({ has: page.getByTestId("instance-title") });
    await page.getByTestId("instance-stop").click();
    await waitForInstanceState(header, "Stopped", 60_000);
    await page.getByTestId("instance-start").click();
    await waitForInstanceState(header, "Running", 60_000);

    await page.getByTestId("backup-now").click();
    await expect
      .poll(() => page.getByTestId("backup-state").first().innerText(), { timeout: 60_000 })
      .toMatch(/^completed · .* · sha256 [0-9a-f]{12}…$/);

    // Automatic backups: every 6 hours, planned at once.
    const schedule = page.getByTestId("backup-schedule");
    await schedule.getByRole("button", { name: "Change…" }).click();
    await page.getByTestId("backup-schedule-mode").selectOption("hourly");
    await schedule.getByLabel("Every (hours)").fill("6");
    await page.getByTestId("backup-schedule-save").click();
    await expect.poll(() => textOf("backup-schedule-summary")).toMatch(/^Every 6 hours · keeps 7 days/);
    await expect.poll(() => schedule.innerText()).toMatch(/Next: /);
    await shot("instance-detail");
    await page.emulateMedia({ colorScheme: "dark" });
    await page.setViewportSize(PHONE);
    await shot("instance-detail-phone-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize(DESKTOP);
  });

  it("restores the backup into a new instance, which runs on the next port block", SLOW, async () => {
    await page.getByTestId("backup-restore").first().click();
    await page.getByLabel("New instance name (optional)").fill(RESTORED);
    await page.getByRole("button", { name: "Restore into a new instance" }).click();
    await page.getByText("Restored into a new instance").waitFor({ timeout: 90_000 });
    await page.getByRole("button", { name: "Done" }).click();

    await page.getByRole("link", { name: "Instances", exact: true }).click();
    const row = rowOf(RESTORED);
    await waitForInstanceState(row, "Running");
    const href = (await row.getByTestId("link-odoo").getAttribute("href")) ?? "";
    expect(href).toMatch(/^http:\/\/127\.0\.0\.1:100\d0\/$/);
    expect(await (await fetch(href)).text()).toContain("odoo stand-in");
    expect(await page.getByTestId("instance-row").count()).toBe(2);
  });

  it("shows a container that died as failed with its reason, live, and starts it again", SLOW, async () => {
    await rowOf(INSTANCE).getByTestId("instance-link").click();
    await page.waitForURL(/\/instances\/[0-9a-f-]{36}$/);
    const header = page.locator("header").filter({ has: page.getByTestId("instance-title") });
    await waitForInstanceState(header, "Running");
    // Killed behind oCore's back: the agent sees Docker's event and pushes it; no reload here.
    const killedAt = performance.now();
    await run("docker", ["kill", `ocore-${INSTANCE}-odoo`]);
    await expect
      .poll(() => header.getByTestId("instance-state").innerText(), { timeout: 30_000, interval: 100 })
      .toBe("Failed");
    process.stdout.write(
      `docker kill → Failed on the open page: ${Math.round(performance.now() - killedAt)} ms\n`,
    );
    expect(await header.innerText()).toMatch(/exit(ed)? .*137/i);
    // It reads Failed until the start has gone through, so this wait does not stop at Failed.
    await page.getByTestId("instance-start").click();
    await expect
      .poll(() => header.getByTestId("instance-state").innerText(), { timeout: 60_000 })
      .toBe("Running");
  });

  it("shows it all in the audit log, with an intact chain", async () => {
    await page.goto(`${server.url}/admin/audit`);
    await page.getByTestId("audit-entry").first().waitFor();
    const actions = await page.getByTestId("audit-action").allInnerTexts();
    for (const action of [
      "auth.login",
      "auth.change_password",
      "server.create",
      "server.provisioned",
      "agent.enroll",
      "instance.create",
      "backup.create",
      "backup.restore",
      "backup.schedule.set",
    ]) {
      expect(
        actions.some((text) => text.startsWith(action)),
        `${action} in ${actions.join(" | ")}`,
      ).toBe(true);
    }
    await page.getByTestId("verify-chain").click();
    expect(await textOf("chain-result")).toMatch(/The chain is intact: \d+ entries checked/);
  });

  it("deletes the instances and removes the server, each confirmed", SLOW, async () => {
    for (const name of [RESTORED, INSTANCE]) {
      await page.goto(`${server.url}/instances`);
      await rowOf(name).getByTestId("instance-link").click();
      await page.waitForURL(/\/instances\/[0-9a-f-]{36}$/);
      await page.getByTestId("instance-delete").click();
      await page.getByRole("button", { name: "Delete instance" }).click();
      // The dialog closes once the server has accepted the deletion; it goes on in the background.
      await page
        .getByRole("button", { name: "Delete instance" })
        .waitFor({ state: "hidden", timeout: 60_000 });
    }
    await page.goto(`${server.url}/instances`);
    await page.getByTestId("instances-empty").waitFor({ timeout: 90_000 });

    await page.goto(`${server.url}${serverPath}`);
    await page.getByTestId("remove-server").click();
    await page.getByTestId("confirm-dialog").getByTestId("confirm-button").click();
    await page.getByTestId("server-removed").waitFor({ timeout: 90_000 });
    expect(pageErrors).toEqual([]);
  });
});
