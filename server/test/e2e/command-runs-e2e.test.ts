import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { EnrollmentTokenService } from "@ocore/proto/gen/ocore/api/v1/enrollment_token_service_pb.js";
import { RunService } from "@ocore/proto/gen/ocore/api/v1/run_service_pb.js";
import { DataFormat, ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { TemplateService } from "@ocore/proto/gen/ocore/api/v1/template_service_pb.js";
import { UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { type ServerProcess, startServerProcess, tempDataDir } from "../support/server-process.js";
import { createPostgresDatabase, dropPostgresDatabase } from "../support/test-databases.js";

const run = promisify(execFile);
const agentMain = new URL("../../../agent/dist/main.js", import.meta.url).pathname;
const STRONG = "a long and strong passphrase 9";

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * The "done when" with real processes: the server (PostgreSQL) and a real enrolled agent.
 * One user writes "disk report for {arch}", a second approves it, the run reaches the agent,
 * which runs the reviewed script in its sandbox with a hostile parameter as argv.
 */
describe("a template run on a real agent", () => {
  let databaseUrl = "";
  let server: ServerProcess | undefined;
  let agent: ChildProcess | undefined;
  let transport: Transport;
  let owner: Record<string, string>;
  let reviewer: Record<string, string>;
  let serverId = "";
  const agentState = mkdtempSync(path.join(os.tmpdir(), "ocore-agent-runs-"));
  const agentEnv = () => ({
    PATH: process.env.PATH ?? "",
    OCORE_AGENT_STATE_DIR: agentState,
    OCORE_AGENT_DOCKER_SOCKET: "off",
  });

  async function signIn(username: string, oneTime: string) {
    const first = await createClient(AuthService, transport).login({ username, password: oneTime });
    const changed = await createClient(AuthService, transport).changePassword(
      { currentPassword: oneTime, newPassword: STRONG },
      { headers: { authorization: `Bearer ${first.tokens?.accessToken}` } },
    );
    return { authorization: `Bearer ${changed.tokens?.accessToken}` };
  }

  beforeAll(async () => {
    databaseUrl = await createPostgresDatabase();
    const agentPort = await freePort();
    server = await startServerProcess({
      OCORE_DATA_DIR: tempDataDir(),
      DATABASE_URL: databaseUrl,
      OCORE_AGENT_ADDR: `127.0.0.1:${agentPort}`,
      OCORE_AGENT_PUBLIC_ADDR: `127.0.0.1:${agentPort}`,
      OCORE_AGENT_HOSTNAMES: "127.0.0.1,localhost",
    });
    transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    owner = await signIn("admin", server.firstAdminPassword());
    const created = await createClient(UserService, transport).createUser(
      { username: "reviewer", roleBindings: [{ role: "admin", selector: "" }] },
      { headers: owner },
    );
    reviewer = await signIn("reviewer", created.oneTimePassword);
    await createClient(ServerService, transport).importServers(
      {
        format: DataFormat.JSON,
        data: new TextEncoder().encode(
          JSON.stringify([{ name: "runs-host", host: "127.0.0.1", tags: { env: "prod" } }]),
        ),
      },
      { headers: owner },
    );
    serverId =
      (await createClient(ServerService, transport).listServers({}, { headers: owner })).servers[0]?.id ?? "";
    const { token, gatewayAddress } = await createClient(
      EnrollmentTokenService,
      transport,
    ).createEnrollmentToken({ serverId }, { headers: owner });
    await run(process.execPath, [agentMain, "enroll", "--server", gatewayAddress, "--token", token], {
      env: agentEnv(),
    });
    agent = spawn(process.execPath, [agentMain, "run"], {
      env: agentEnv(),
      stdio: ["ignore", "ignore", "inherit"],
    });
    await waitFor("the agent to connect", async () => {
      const got = await createClient(ServerService, transport).getServer(
        { id: serverId },
        { headers: owner },
      );
      return got.server?.status === "active" && got.server.facts?.architecture ? true : undefined;
    });
  }, 120_000);

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((resolve) => agent?.once("exit", resolve));
      agent.kill("SIGTERM");
      await exited;
    }
    await server?.stop();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  });

  it("writes, approves by a second user, runs with values as argv only, archives the output", async () => {
    const templates = createClient(TemplateService, transport);
    const hostile = "x'; touch /tmp/ocore-e2e-canary; echo $(id) `id`";
    const created = await templates.createTemplate(
      {
        key: "disk-report",
        definition: {
          name: "disk report for {arch}",
          type: "diagnostic",
          scope: "env=prod",
          interpreter: "bash",
          script: 'printf "arch=%s arg=%s\\n" "$OCORE_ARCH" "$1"; id -un; df -P / | tail -n 1 | wc -l',
          argv: ["{value}"],
          runAs: "nobody",
          timeoutSeconds: 30,
          parameters: [{ name: "value", type: "string", required: true }],
        },
      },
      { headers: owner },
    );
    const version = created.template?.latest;
    await templates.approveVersion({ versionId: version?.id, hash: version?.hash }, { headers: reviewer });
    const preview = await templates.previewRun(
      { templateId: created.template?.id, parameters: { value: hostile }, targets: { selector: "env=prod" } },
      { headers: owner },
    );
    expect(preview.hosts[0]?.command.slice(3)).toEqual(["ocore-template", hostile]);
    const runs = createClient(RunService, transport);
    const started = await runs.startRun(
      {
        templateId: created.template?.id,
        parameters: { value: hostile },
        targets: { selector: "env=prod" },
        maxConcurrency: "2",
        maxErrors: "1",
      },
      { headers: owner },
    );
    const done = await waitFor("the run to finish", async () => {
      const got = await runs.getRun({ id: started.run?.id }, { headers: owner });
      return got.run?.finishedAt ? got : undefined;
    });
    expect(done.run).toMatchObject({
      state: "succeeded",
      succeeded: 1,
      dispatchedAfterBudget: 0,
      actor: "admin",
    });
    const host = done.hosts[0];
    expect(host).toMatchObject({ state: "succeeded", sandbox: "process", exitCode: 0 });
    const arch = preview.hosts[0]?.env.OCORE_ARCH;
    expect(host?.output).toBe(`arch=${arch} arg=${hostile}\nnobody\n1\n`);
    expect(preview.hosts[0]?.title).toBe(`disk report for ${arch}`);
    expect(done.groups).toHaveLength(1);
    await expect(run("test", ["-e", "/tmp/ocore-e2e-canary"])).rejects.toThrow();
  });
});
