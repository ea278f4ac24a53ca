import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { EnrollmentTokenService } from "@ocore/proto/gen/ocore/api/v1/enrollment_token_service_pb.js";
import { InstanceService } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import { DataFormat, ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { type ServerProcess, startServerProcess, tempDataDir } from "../support/server-process.js";
import { createPostgresDatabase, dropPostgresDatabase } from "../support/test-databases.js";

const run = promisify(execFile);
const agentMain = new URL("../../../agent/dist/main.js", import.meta.url).pathname;
/** The agent's stand-in instance images (busybox httpd on Odoo's ports; no registry here). */
const instanceImagesModule = new URL("../../../agent/src/test/instance-test-images.ts", import.meta.url)
  .pathname;
const STRONG = "a long and strong passphrase 16";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An Odoo instance's checks end to end: a real server process on PostgreSQL, a real agent on this
 * machine's Docker, an instance created through the API from the stand-in images (Odoo 15 by its
 * ODOO_VERSION, as the official images set it), its health endpoint made to fail inside the
 * container, and the checks and alerts read through the API.
 */
describe("Odoo instance checks from a real agent", () => {
  let databaseUrl: string;
  let server: ServerProcess | undefined;
  let agent: ChildProcess | undefined;
  let headers: Record<string, string>;
  let serverId: string;
  let alerts: ReturnType<typeof createClient<typeof AlertService>>;
  let instances: ReturnType<typeof createClient<typeof InstanceService>>;
  let instanceId = "";
  const name = `h16-shop-${randomBytes(2).toString("hex")}`;
  const scratch = mkdtempSync(path.join(os.tmpdir(), "h16-instance-checks-e2e-"));

  beforeAll(async () => {
    databaseUrl = await createPostgresDatabase();
    const agentPort = await freePort();
    server = await startServerProcess({
      OCORE_DATA_DIR: tempDataDir(),
      DATABASE_URL: databaseUrl,
      OCORE_AGENT_ADDR: `127.0.0.1:${agentPort}`,
      OCORE_AGENT_PUBLIC_ADDR: `127.0.0.1:${agentPort}`,
      OCORE_AGENT_HOSTNAMES: "127.0.0.1,localhost",
      OCORE_ALERT_EVALUATE_EVERY_SECONDS: "1",
      // A failing check fires after 5 s (60 s by default): longer than a stop takes.
      OCORE_ALERT_HOST_CHECK_FOR_SECONDS: "5",
    });
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    const oneTime = server.firstAdminPassword();
    const first = await createClient(AuthService, transport).login({ username: "admin", password: oneTime });
    const changed = await createClient(AuthService, transport).changePassword(
      { currentPassword: oneTime, newPassword: STRONG },
      { headers: { authorization: `Bearer ${first.tokens?.accessToken}` } },
    );
    headers = { authorization: `Bearer ${changed.tokens?.accessToken}` };
    alerts = createClient(AlertService, transport);
    instances = createClient(InstanceService, transport);
    const servers = createClient(ServerService, transport);
    await servers.importServers(
      {
        format: DataFormat.JSON,
        data: new TextEncoder().encode(JSON.stringify([{ name: "odoo-host-1", host: "127.0.0.1" }])),
      },
      { headers },
    );
    serverId = (await servers.listServers({}, { headers })).servers[0]?.id ?? "";
    const { token } = await createClient(EnrollmentTokenService, transport).createEnrollmentToken(
      { serverId },
      { headers },
    );
    const env = {
      PATH: process.env.PATH ?? "",
      OCORE_AGENT_STATE_DIR: path.join(scratch, "state"),
      OCORE_AGENT_DOCKER_SOCKET: process.env.OCORE_TEST_DOCKER_SOCKET ?? "/var/run/docker.sock",
      OCORE_AGENT_CHECK_INTERVAL_SECONDS: "1",
      OCORE_AGENT_START_CHECK_MINUTES: "0",
    };
    await run(
      process.execPath,
      [agentMain, "enroll", "--server", `127.0.0.1:${agentPort}`, "--token", token],
      {
        env,
      },
    );
    agent = spawn(process.execPath, [agentMain, "run"], { env, stdio: "ignore" });
    await until("the server to be active", async () => {
      const found = (await servers.getServer({ id: serverId }, { headers })).server;
      return found?.status === "active" ? true : undefined;
    });
  }, 180_000);

  afterAll(async () => {
    if (instanceId) {
      await instances.deleteInstance({ id: instanceId }, { headers }).catch(() => undefined);
      await until(
        "the instance's removal",
        () =>
          instances.getInstance({ id: instanceId }, { headers }).then(
            () => undefined,
            () => true,
          ),
        120_000,
      ).catch(() => undefined);
    }
    agent?.kill("SIGTERM");
    // Whatever the removal left (it backs up first and may not end in time): by name.
    const prefix = `ocore-${name}`;
    await run("docker", ["rm", "-f", "-v", `${prefix}-odoo`, `${prefix}-mail`, `${prefix}-db`]).catch(
      () => undefined,
    );
    await run("docker", ["network", "rm", prefix]).catch(() => undefined);
    await run("docker", ["volume", "rm", `${prefix}-db`, `${prefix}-data`, `${prefix}-config`]).catch(
      () => undefined,
    );
    await server?.stop();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
    rmSync(scratch, { recursive: true, force: true });
  }, 180_000);

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(250);
    }
  }
  const instanceCheck = async (key: string) =>
    (await alerts.listServerChecks({ serverId }, { headers })).checks.find(
      (check) => check.key === key && check.subject === name,
    );
  const openAlert = async (ruleKey: string) =>
    (await alerts.listAlerts({}, { headers })).alerts.find(
      (alert) => alert.ruleKey === ruleKey && alert.serverId === serverId && alert.state === "firing",
    );
  const inOdoo = (command: string) => run("docker", ["exec", `ocore-${name}-odoo`, "sh", "-c", command]);

  it("checks a running instance, fires when its health endpoint fails, resolves when it passes, and drops it once stopped", {
    timeout: 300_000,
  }, async () => {
    const { ensureInstanceTestImages } = (await import(instanceImagesModule)) as {
      ensureInstanceTestImages(): Promise<{ odoo: string; postgres: string; mailpit: string }>;
    };
    const images = await ensureInstanceTestImages();
    const created = await instances.createInstance(
      {
        serverId,
        name,
        odooImage: images.odoo,
        postgresImage: images.postgres,
        mailpitImage: images.mailpit,
        environment: { ODOO_VERSION: "15.0" },
      },
      { headers },
    );
    instanceId = created.instance?.id ?? "";
    const webPort = created.instance?.webPort ?? 0;
    const running = await until(
      "the instance to run",
      async () => {
        const found = (await instances.getInstance({ id: instanceId }, { headers })).instance;
        return found && found.state !== "creating" ? found : undefined;
      },
      120_000,
    );
    expect(running.state, running.stateMessage).toBe("running");

    const web = await until("the web check to pass", async () => {
      const check = await instanceCheck("odoo_web");
      return check?.state === "ok" ? check : undefined;
    });
    expect(web.message).toMatch(new RegExp(`^/web/health on port ${webPort} passes in \\d+ ms`));
    expect(await instanceCheck("odoo_containers")).toMatchObject({ state: "ok", value: 3 });
    expect((await instanceCheck("odoo_realtime"))?.message).toMatch(
      /^longpolling \(HTTP\) on port \d+ answers/,
    );

    // Odoo's health endpoint fails (here: it is gone, so the port answers 404).
    await inOdoo("mv /www/web/health /www/web/health.off");
    const failing = await until("the web check to fail", async () => {
      const check = await instanceCheck("odoo_web");
      return check?.state === "critical" ? check : undefined;
    });
    expect(failing.message).toMatch(/fails: HTTP 404/);
    expect(failing.action).toContain(
      `Odoo of instance ${name} on odoo-host-1 does not answer its health check`,
    );
    const fired = await until("the instance's web alert", () => openAlert("builtin:instance_web"));
    expect(fired).toMatchObject({ severity: "critical", labels: { instance: name } });
    expect(fired.summary).toBe(`Odoo web ${name} on odoo-host-1: ${failing.message}`);

    await inOdoo("mv /www/web/health.off /www/web/health");
    await until("the web alert to resolve", async () =>
      (await openAlert("builtin:instance_web")) ? undefined : true,
    );
    expect((await instanceCheck("odoo_web"))?.state).toBe("ok");

    // Stopped on purpose: its containers are down by design, nothing is judged and nothing fires.
    await instances.stopInstance({ id: instanceId }, { headers });
    await until("the instance's checks to be dropped", async () =>
      (await instanceCheck("odoo_containers")) ? undefined : true,
    );
    await sleep(8_000);
    const after = (await alerts.listAlerts({}, { headers })).alerts.filter(
      (alert) => alert.serverId === serverId,
    );
    expect(after.filter((alert) => alert.ruleKey === "builtin:instance_containers")).toEqual([]);
    const instanceAlerts = after.filter((alert) => alert.ruleKey.startsWith("builtin:instance_"));
    expect(instanceAlerts.filter((alert) => alert.state === "firing" || alert.state === "pending")).toEqual(
      [],
    );
  });
});
