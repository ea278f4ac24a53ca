import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The same WebSocket client the server uses (test only: a Node socket can carry the cookies).
import WebSocket from "ws";
import { generateUserKey, type SshdHost, startSshdHost } from "../../../server/test/support/sshd-host.js";
import { agentGatewayEnv, freePort } from "./support/agent.js";
import { launchBrowser } from "./support/browser.js";
import { type ControlServer, startControlServer } from "./support/control-server.js";
import { ADMIN, ADMIN_PASSWORD, callApi, signInFirstAdmin } from "./support/session.js";

const run = promisify(execFile);
const repoRoot = new URL("../../../", import.meta.url).pathname;
const SLOW = { timeout: 180_000 };
const SCREENSHOTS = new URL("../../../docs/screenshots/", import.meta.url).pathname;

/**
 * The web terminal and SSH keys in the browser, against the built server: a loopback sshd host
 * onboarded for real (agent installed over SSH), a key added on the account page, a shell in the
 * server page's terminal (through the agent's tunnel, like `ssh -p 2222`), and its recording on
 * the Sessions page.
 */
describe("the console terminal and SSH keys", () => {
  let sshd: SshdHost;
  let server: ControlServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let serverId = "";
  const work = mkdtempSync(path.join(os.tmpdir(), "ocore-web-e2e-term-"));
  const installPrefix = path.join(work, "ocore-agent");
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const hostKey = generateUserKey();
    const gatewayPort = await freePort();
    [sshd, server, browser] = await Promise.all([
      startSshdHost([{ publicKey: hostKey.publicKey, sudo: true }]),
      startControlServer({
        ...agentGatewayEnv(gatewayPort),
        OCORE_AGENT_INSTALL_PREFIX: installPrefix,
        OCORE_PROVISIONING_AGENT_WAIT_SECONDS: "90",
      }),
      launchBrowser(),
    ]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await signInFirstAdmin(context, server);
    const created = (await callApi(context, server.url, "/ocore.api.v1.ServerService/CreateServer", {
      name: "term-host",
      host: sshd.host,
      sshPort: sshd.port,
      sshUser: sshd.users[0]?.username ?? "",
      privateKey: hostKey.privateKey,
      acceptedRequirements: ["docker"],
    })) as { server: { id: string } };
    serverId = created.server.id;
  }, 180_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
    if (existsSync(path.join(installPrefix, "libexec/uninstall-agent.sh"))) {
      await run("bash", [path.join(repoRoot, "deploy/host/uninstall-agent.sh"), "--prefix", installPrefix], {
        timeout: 60_000,
      }).catch(() => undefined);
    }
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it("adds an SSH key on the account page, refusing a weak one with the reason", async () => {
    await page.goto(`${server.url}/account`);
    await page.getByTestId("ssh-keys-empty").waitFor();
    await page.getByTestId("ssh-key-input").fill("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 short");
    await page.getByTestId("ssh-key-add").click();
    expect(await page.getByTestId("ssh-key-error").innerText()).toMatch(/publicKey/);

    const key = generateUserKey();
    await page.getByTestId("ssh-key-input").fill(key.publicKey);
    await page.getByTestId("ssh-key-name").fill("laptop");
    await page.getByTestId("ssh-key-add").click();
    await page.getByTestId("ssh-key-row").waitFor();
    expect(await page.getByTestId("ssh-key-fingerprint").innerText()).toMatch(/^SHA256:/);
    expect(await page.getByTestId("gateway-known-hosts").innerText()).toMatch(/ssh-ed25519 AAAA/);
    await page.screenshot({ path: `${SCREENSHOTS}account-ssh-keys.png`, fullPage: true });
  });

  it("opens a terminal on the server and runs a command in it", SLOW, async () => {
    await page.goto(`${server.url}/servers/${serverId}`);
    await expect
      .poll(
        () =>
          page
            .getByTestId("server-status")
            .first()
            .innerText()
            .catch(() => ""),
        {
          timeout: 150_000,
          interval: 1_000,
        },
      )
      .toBe("Active");
    await page.getByTestId("connect-summary").click();
    expect(await page.getByTestId("gateway-command").innerText()).toMatch(/^ssh -p \d+ admin\+term-host@/);
    await page.getByTestId("open-terminal").click();
    await expect
      .poll(() => page.getByTestId("terminal-status").innerText(), { timeout: 60_000 })
      .toMatch(/^Connected as /);
    await page.getByTestId("terminal").click();
    await page.keyboard.type("echo hello-$((6*7))\n");
    await expect
      .poll(() => page.locator(".xterm-rows").innerText(), { timeout: 30_000 })
      .toContain("hello-42");
    // The host's pty has the terminal's size, and follows it when the window changes.
    const sizeOf = async () => {
      const box = page.getByTestId("terminal");
      return `${await box.getAttribute("data-rows")}x${await box.getAttribute("data-cols")}`;
    };
    const first = await sizeOf();
    await page.keyboard.type("echo size-$(stty size | tr ' ' x)\n");
    await expect
      .poll(() => page.locator(".xterm-rows").innerText(), { timeout: 30_000 })
      .toContain(`size-${first}`);
    await page.screenshot({ path: `${SCREENSHOTS}web-terminal.png` });
    await page.setViewportSize({ width: 900, height: 900 });
    await expect.poll(sizeOf, { timeout: 10_000 }).not.toBe(first);
    const second = await sizeOf();
    await page.keyboard.type("clear; echo size-$(stty size | tr ' ' x)\n");
    await expect
      .poll(() => page.locator(".xterm-rows").innerText(), { timeout: 30_000 })
      .toContain(`size-${second}`);
    await page.keyboard.type("exit\n");
    await expect
      .poll(
        () =>
          page
            .getByTestId("terminal-message")
            .innerText()
            .catch(() => ""),
        { timeout: 30_000 },
      )
      .toContain("exit status 0");

    // Signing out ends an open terminal (the gateway's identity re-check, every 5 s). The page
    // would leave for the sign-in page once its own calls are refused (closing its socket), so a
    // socket of this session's cookies, outside the page, shows the terminal being ended.
    const cookies = await context.cookies(server.url);
    const cookie = cookies.map(({ name, value }) => `${name}=${value}`).join("; ");
    const csrf = cookies.find(({ name }) => name === "ocore_csrf")?.value ?? "";
    const socket = new WebSocket(`${server.url.replace(/^http/, "ws")}/api/terminal?csrf=${csrf}`, {
      headers: { cookie },
      origin: server.url,
    });
    const frames: string[] = [];
    socket.on("message", (data: Buffer, binary) => {
      if (!binary) frames.push(data.toString());
    });
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    socket.send(JSON.stringify({ type: "start", server: "term-host", cols: 80, rows: 24 }));
    await expect.poll(() => frames.join("\n"), { timeout: 60_000 }).toContain('"type":"ready"');
    await callApi(context, server.url, "/ocore.api.v1.AuthService/Logout", {});
    await expect
      .poll(() => frames.join("\n"), { timeout: 30_000 })
      .toContain("the session was ended: the console sign-in session ended");
    await closed;
    await callApi(context, server.url, "/ocore.api.v1.AuthService/Login", {
      username: ADMIN,
      password: ADMIN_PASSWORD,
    });
  });

  it("finds the terminal session, recorded, on the Sessions page", async () => {
    await page.goto(`${server.url}/sessions`);
    const row = page.getByTestId("session-row").filter({ hasText: "term-host" }).first();
    await row.waitFor({ timeout: 30_000 });
    await page.getByTestId("session-search").fill("hello-42");
    await page.getByTestId("session-search-submit").click();
    await expect
      .poll(
        () =>
          page
            .getByTestId("session-snippet")
            .first()
            .innerText()
            .catch(() => ""),
        { timeout: 30_000 },
      )
      .toContain("hello-42");
    expect(pageErrors).toEqual([]);
  });
});
