import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { EnrollmentTokenService } from "@ocore/proto/gen/ocore/api/v1/enrollment_token_service_pb.js";
import { DataFormat, ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { type ServerProcess, startServerProcess, tempDataDir } from "../support/server-process.js";
import { createPostgresDatabase, dropPostgresDatabase } from "../support/test-databases.js";

const run = promisify(execFile);
const agentMain = new URL("../../../agent/dist/main.js", import.meta.url).pathname;
const DOCKER_SOCKET = process.env.OCORE_TEST_DOCKER_SOCKET ?? "/var/run/docker.sock";
const STRONG = "a long and strong passphrase 16";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A unix socket in front of the real Docker daemon: the agent talks to dockerd through it, and
 * closing it is, for the agent, the daemon stopping (the machine's dockerd is shared, so it is
 * never stopped itself).
 */
function startDockerProxy(socketPath: string): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(DOCKER_SOCKET);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  return new Promise((resolve) =>
    server.listen(socketPath, () =>
      resolve({
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      }),
    ),
  );
}

/**
 * The agent's host checks end to end: a real server process on PostgreSQL, a real agent with its
 * Docker socket pointing at the real dockerd (through a proxy the test can close), per-tag inode
 * thresholds, and the checks' results, history and alerts read through the API.
 */
describe("host checks from a real agent", () => {
  let databaseUrl: string;
  let server: ServerProcess | undefined;
  let agent: ChildProcess | undefined;
  let proxy: { close(): Promise<void> } | undefined;
  let headers: Record<string, string>;
  let serverId: string;
  let alerts: ReturnType<typeof createClient<typeof AlertService>>;
  const scratch = mkdtempSync(path.join(os.tmpdir(), "h16-checks-e2e-"));

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
      OCORE_ALERT_HOST_CHECK_FOR_SECONDS: "0",
      // Servers tagged checks=tight judge inodes at 1 % / 2 %: the root filesystem is past both.
      OCORE_ALERT_TAG_THRESHOLDS: JSON.stringify([{ selector: "checks=tight", inodes: "1,2" }]),
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
    const servers = createClient(ServerService, transport);
    await servers.importServers(
      {
        format: DataFormat.JSON,
        data: new TextEncoder().encode(
          JSON.stringify([{ name: "checked-1", host: "127.0.0.1", tags: { checks: "tight" } }]),
        ),
      },
      { headers },
    );
    serverId = (await servers.listServers({}, { headers })).servers[0]?.id ?? "";
    const { token } = await createClient(EnrollmentTokenService, transport).createEnrollmentToken(
      { serverId },
      { headers },
    );
    const dockerSocket = path.join(scratch, "docker.sock");
    proxy = await startDockerProxy(dockerSocket);
    const env = {
      PATH: process.env.PATH ?? "",
      OCORE_AGENT_STATE_DIR: path.join(scratch, "state"),
      OCORE_AGENT_DOCKER_SOCKET: dockerSocket,
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
  }, 120_000);

  afterAll(async () => {
    agent?.kill("SIGTERM");
    await proxy?.close();
    await server?.stop();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
    rmSync(scratch, { recursive: true, force: true });
  });

  const checks = () => alerts.listServerChecks({ serverId }, { headers });
  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(250);
    }
  }
  const firing = async (ruleKey: string) =>
    (await alerts.listAlerts({}, { headers })).alerts.find(
      (alert) => alert.ruleKey === ruleKey && alert.serverId === serverId && alert.state === "firing",
    );

  it("reports Docker, sshd and inodes; a Docker daemon that stops answering fires and resolves", {
    timeout: 150_000,
  }, async () => {
    const first = await until("the first check results", async () => {
      const answer = await checks();
      return answer.checks.some((check) => check.key === "docker") ? answer : undefined;
    });
    const docker = first.checks.find((check) => check.key === "docker");
    expect(docker).toMatchObject({ state: "ok" });
    expect(docker?.message).toMatch(/^Docker \d+\.\d+/);
    const sshd = first.checks.find((check) => check.key === "sshd");
    expect(["ok", "warning", "critical"]).toContain(sshd?.state);
    // The tag's inode thresholds (1 %, 2 %) apply: the root filesystem is critical, and alerts.
    const root = first.checks.find((check) => check.key === "inodes" && check.subject === "/");
    expect(root).toMatchObject({ state: "critical" });
    expect(root?.value).toBeGreaterThan(2);
    expect(root?.action).toContain("du --inodes");
    const inodeAlert = await until("the inode alert", () => firing("builtin:inodes_used"));
    expect(inodeAlert).toMatchObject({ severity: "critical", labels: { mount: "/" } });

    // dockerd, as the agent sees it, stops answering.
    await proxy?.close();
    proxy = undefined;
    const down = await until("Docker critical", async () => {
      const answer = await checks();
      const check = answer.checks.find((c) => c.key === "docker");
      return check?.state === "critical" ? answer : undefined;
    });
    expect(down.checks.find((c) => c.key === "docker")?.message).toContain("does not answer");
    expect(down.changes[0]).toMatchObject({ key: "docker", fromState: "ok", toState: "critical" });
    // Fires (its `for` is 0 here, 60 s by default): the alert carries what to do.
    const dockerAlert = await until("the Docker alert", () => firing("builtin:docker_daemon"));
    expect(dockerAlert.action).toContain("systemctl status docker");

    // It answers again: the check is ok and the alert resolves.
    proxy = await startDockerProxy(path.join(scratch, "docker.sock"));
    await until("Docker ok again", async () => {
      const check = (await checks()).checks.find((c) => c.key === "docker");
      return check?.state === "ok" ? check : undefined;
    });
    await until("the Docker alert resolved", async () =>
      (await firing("builtin:docker_daemon")) ? undefined : true,
    );
    const history = (await checks()).changes.filter((change) => change.key === "docker");
    expect(history.map((change) => `${change.fromState}->${change.toState}`)).toEqual([
      "critical->ok",
      "ok->critical",
      "->ok",
    ]);
  });
});
