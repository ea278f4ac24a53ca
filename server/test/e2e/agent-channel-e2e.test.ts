import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { EnrollmentTokenService } from "@ocore/proto/gen/ocore/api/v1/enrollment_token_service_pb.js";
import { DataFormat, ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import postgres from "postgres";
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
 * The real server process (on PostgreSQL, so the test can read what was stored) and the real
 * agent process, talking mutual TLS on loopback.
 */
describe("the agent channel across real processes", () => {
  let databaseUrl: string;
  let sql: postgres.Sql;
  let dataDir: string;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  let agent: ChildProcess | undefined;
  let serverId = "";
  const agentEnv = () => ({
    PATH: process.env.PATH ?? "",
    OCORE_AGENT_STATE_DIR: agentState,
    OCORE_AGENT_LOG_LEVEL: "debug",
  });
  const agentState = mkdtempSync(path.join(os.tmpdir(), "ocore-agent-e2e-"));

  const startAgent = () => {
    agent = spawn(process.execPath, [agentMain, "run"], {
      env: agentEnv(),
      stdio: ["ignore", "ignore", "inherit"],
    });
  };
  const stopAgent = async (signal: NodeJS.Signals) => {
    if (!agent || agent.exitCode !== null) return;
    const exited = new Promise((resolve) => agent?.once("exit", resolve));
    agent.kill(signal);
    await exited;
  };
  const sequences = async () =>
    (await sql`select sequence from metric_samples where server_id = ${serverId} order by sequence`).map(
      (row) => Number(row.sequence),
    );
  const expectEverySampleOnce = async () => {
    const stored = await sequences();
    const first = stored[0] ?? 0;
    expect(stored).toEqual(Array.from({ length: stored.length }, (_, i) => first + i));
    return stored;
  };

  beforeAll(async () => {
    databaseUrl = await createPostgresDatabase();
    sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    dataDir = tempDataDir();
    const agentPort = await freePort();
    env = {
      OCORE_DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      OCORE_AGENT_ADDR: `127.0.0.1:${agentPort}`,
      OCORE_AGENT_PUBLIC_ADDR: `127.0.0.1:${agentPort}`,
      OCORE_AGENT_HOSTNAMES: "127.0.0.1,localhost",
      OCORE_METRICS_INTERVAL_SECONDS: "1",
    };
    server = await startServerProcess(env);
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    const oneTime = server.firstAdminPassword();
    const first = await createClient(AuthService, transport).login({ username: "admin", password: oneTime });
    const changed = await createClient(AuthService, transport).changePassword(
      { currentPassword: oneTime, newPassword: STRONG },
      { headers: { authorization: `Bearer ${first.tokens?.accessToken}` } },
    );
    const headers = { authorization: `Bearer ${changed.tokens?.accessToken}` };
    await createClient(ServerService, transport).importServers(
      {
        format: DataFormat.JSON,
        data: new TextEncoder().encode(JSON.stringify([{ name: "e2e-host", host: "127.0.0.1" }])),
      },
      { headers },
    );
    const listed = await createClient(ServerService, transport).listServers({}, { headers });
    serverId = listed.servers[0]?.id ?? "";
    const { token, gatewayAddress } = await createClient(
      EnrollmentTokenService,
      transport,
    ).createEnrollmentToken({ serverId }, { headers });
    await run(process.execPath, [agentMain, "enroll", "--server", gatewayAddress, "--token", token], {
      env: agentEnv(),
    });
  });

  afterAll(async () => {
    await stopAgent("SIGTERM");
    await server?.stop();
    await sql?.end();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  });

  it("streams metrics; after the server is SIGKILLed and restarted, every sample of the outage is stored once", async () => {
    startAgent();
    await waitFor("the first samples", async () => ((await sequences()).length >= 3 ? true : undefined));
    const [status] = await sql`select status from servers where id = ${serverId}`;
    expect(status?.status).toBe("active");

    server?.child.kill("SIGKILL");
    await new Promise((resolve) => server?.child.once("exit", resolve));
    const beforeOutage = (await sequences()).at(-1) ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 5_000)); // the agent spools meanwhile
    server = await startServerProcess(env);
    await waitFor("the outage to be replayed", async () =>
      ((await sequences()).at(-1) ?? 0) >= beforeOutage + 6 ? true : undefined,
    );
    const stored = await expectEverySampleOnce();
    expect(stored.length).toBeGreaterThanOrEqual(9);
  });

  it("keeps its spool across an agent restart while the server is away, and replays it", async () => {
    await server?.stop();
    server = undefined;
    const before = (await sequences()).at(-1) ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // sampled into the spool
    await stopAgent("SIGTERM");
    startAgent();
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // the new process spools too
    server = await startServerProcess(env);
    await waitFor("the spool to be replayed", async () =>
      ((await sequences()).at(-1) ?? 0) >= before + 5 ? true : undefined,
    );
    await expectEverySampleOnce();
  });
});
