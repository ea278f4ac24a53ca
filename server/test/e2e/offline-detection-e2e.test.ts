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
import { type FreezableProxy, startFreezableProxy } from "../support/freezable-proxy.js";
import { type ServerProcess, startServerProcess, tempDataDir } from "../support/server-process.js";
import { createPostgresDatabase, dropPostgresDatabase } from "../support/test-databases.js";

const run = promisify(execFile);
const agentMain = new URL("../../../agent/dist/main.js", import.meta.url).pathname;
const STRONG = "a long and strong passphrase 9";
const CUT = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Offline detection of hosts that vanish without closing their connection (power loss, a cut
 * network): real server process, real agents (default 10 s sampling), each through a proxy that
 * is frozen at a different moment of its sampling and ping cycle. One more agent stays connected
 * and must never be shown offline.
 */
describe("offline detection of a silent host", () => {
  let databaseUrl: string;
  let sql: postgres.Sql;
  let server: ServerProcess | undefined;
  const agents: ChildProcess[] = [];
  const proxies: FreezableProxy[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    databaseUrl = await createPostgresDatabase();
    sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    const agentPort = await freePort();
    server = await startServerProcess({
      OCORE_DATA_DIR: tempDataDir(),
      DATABASE_URL: databaseUrl,
      OCORE_AGENT_ADDR: `127.0.0.1:${agentPort}`,
      OCORE_AGENT_PUBLIC_ADDR: `127.0.0.1:${agentPort}`,
      OCORE_AGENT_HOSTNAMES: "127.0.0.1,localhost",
    });
    const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    const oneTime = server.firstAdminPassword();
    const first = await createClient(AuthService, transport).login({ username: "admin", password: oneTime });
    const changed = await createClient(AuthService, transport).changePassword(
      { currentPassword: oneTime, newPassword: STRONG },
      { headers: { authorization: `Bearer ${first.tokens?.accessToken}` } },
    );
    const headers = { authorization: `Bearer ${changed.tokens?.accessToken}` };
    const hosts = Array.from({ length: CUT + 1 }, (_, i) => ({ name: `silent-${i}`, host: "127.0.0.1" }));
    await createClient(ServerService, transport).importServers(
      { format: DataFormat.JSON, data: new TextEncoder().encode(JSON.stringify(hosts)) },
      { headers },
    );
    const listed = await createClient(ServerService, transport).listServers({}, { headers });
    const byName = new Map(listed.servers.map((s) => [s.name, s.id]));
    await Promise.all(
      hosts.map(async (host, i) => {
        const id = byName.get(host.name) ?? "";
        ids[i] = id;
        const proxy = await startFreezableProxy({ host: "127.0.0.1", port: agentPort });
        proxies[i] = proxy;
        const { token } = await createClient(EnrollmentTokenService, transport).createEnrollmentToken(
          { serverId: id },
          { headers },
        );
        const env = {
          PATH: process.env.PATH ?? "",
          OCORE_AGENT_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), "ocore-agent-silent-")),
        };
        // Through the proxy: the gateway's certificate names 127.0.0.1, whatever the port.
        await run(
          process.execPath,
          [agentMain, "enroll", "--server", `127.0.0.1:${proxy.port}`, "--token", token],
          {
            env,
          },
        );
        agents[i] = spawn(process.execPath, [agentMain, "run"], { env, stdio: "ignore" });
      }),
    );
  });

  afterAll(async () => {
    for (const agent of agents) agent?.kill("SIGTERM");
    for (const proxy of proxies) await proxy?.close();
    await server?.stop();
    await sql?.end();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  });

  const statuses = async () => {
    const rows = await sql`select id, status from servers`;
    return new Map(rows.map((row) => [row.id as string, row.status as string]));
  };

  it("shows each cut-off host offline within 15 s, and never the connected one", {
    timeout: 90_000,
  }, async () => {
    const deadline = Date.now() + 60_000;
    while ([...(await statuses()).values()].some((status) => status !== "active")) {
      if (Date.now() > deadline) throw new Error(`agents not all connected: ${[...(await statuses())]}`);
      await sleep(250);
    }
    await sleep(3_000); // past the first samples: each host is somewhere in its cycle

    const cutAt = new Map<string, number>();
    const detected = new Map<string, number>();
    const keeper = ids[CUT] as string;
    let keeperOffline = 0;
    const cutNext = async (i: number) => {
      proxies[i]?.freeze();
      cutAt.set(ids[i] as string, Date.now());
    };
    // Cut one host every 2.3 s, so they fall at different points of the 10 s sampling interval.
    const cuts = Array.from({ length: CUT }, (_, i) => sleep(i * 2_300).then(() => cutNext(i)));
    const until = Date.now() + (CUT - 1) * 2_300 + 20_000;
    while (detected.size < CUT && Date.now() < until) {
      const now = await statuses();
      for (const [id, at] of cutAt) {
        if (!detected.has(id) && now.get(id) === "offline") detected.set(id, Date.now() - at);
      }
      if (now.get(keeper) !== "active") keeperOffline += 1;
      await sleep(200);
    }
    await Promise.all(cuts);
    const latencies = [...detected.values()].sort((a, b) => a - b);
    process.stderr.write(`offline detection after a silent cut, ms: ${latencies.join(", ")}\n`);
    expect(latencies).toHaveLength(CUT);
    expect(Math.max(...latencies)).toBeLessThanOrEqual(15_000);
    expect(keeperOffline).toBe(0);
  });
});
