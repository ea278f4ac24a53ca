import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { DockerService } from "@ocore/proto/gen/ocore/api/v1/docker_service_pb.js";
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
/** The issue's bound for an agent to be back on a survivor after its replica is killed. */
const FAILOVER_BOUND_MS = 30_000;
/** The agent's Docker test image (a registry-free busybox), from the agent's test support. */
const testImageModule = new URL("../../../agent/src/test/docker-test-image.ts", import.meta.url).pathname;
const container = `h19-replicas-e2e-${randomBytes(3).toString("hex")}`;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Two real server processes on one PostgreSQL behind HAProxy (Debian's, TCP mode: the agent's
 * mutual TLS passes through to a replica). The agent reaches replica B (A is HAProxy's backup);
 * a command started through A's API runs on it; B is killed with -9 and the agent is back on A.
 */
describe("replicas on one PostgreSQL behind HAProxy", () => {
  let databaseUrl: string;
  let sql: postgres.Sql;
  let haproxy: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  const replicas: Record<"a" | "b", ServerProcess | undefined> = { a: undefined, b: undefined };
  let headers: Record<string, string> = {};
  let serverId = "";
  const work = mkdtempSync(path.join(os.tmpdir(), "ocore-replicas-e2e-"));
  const agentState = path.join(work, "agent");
  const agentEnv = () => ({ PATH: process.env.PATH ?? "", OCORE_AGENT_STATE_DIR: agentState });

  const sequences = async () =>
    (await sql`select sequence from metric_samples where server_id = ${serverId} order by sequence`).map(
      (row) => Number(row.sequence),
    );
  const holder = async () => {
    const [row] = await sql`
      select p.replica_id from agent_presence p join replicas r on r.id = p.replica_id
      where p.server_id = ${serverId} and p.heartbeat_at > now() - interval '15 seconds'
        and r.heartbeat_at > now() - interval '15 seconds'`;
    return row?.replica_id as string | undefined;
  };
  const replicaIdOf = async (relayPort: number) => {
    const [row] = await sql`select id from replicas where relay_address = ${`127.0.0.1:${relayPort}`}`;
    return row?.id as string | undefined;
  };

  let relayA = 0;
  let relayB = 0;

  beforeAll(async () => {
    databaseUrl = await createPostgresDatabase();
    sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    const [agentA, agentB, front, httpA] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    relayA = await freePort();
    relayB = await freePort();
    const shared = {
      DATABASE_URL: databaseUrl,
      OCORE_MASTER_KEY: randomBytes(32).toString("base64"),
      OCORE_AGENT_PUBLIC_ADDR: `127.0.0.1:${front}`,
      OCORE_AGENT_HOSTNAMES: "127.0.0.1,localhost",
      OCORE_METRICS_INTERVAL_SECONDS: "1",
      OCORE_SSH_LISTEN_ADDR: "off",
      OCORE_CONSOLE: "off",
    };
    const config = path.join(work, "haproxy.cfg");
    writeFileSync(
      config,
      [
        "global",
        "  maxconn 256",
        "defaults",
        "  mode tcp",
        "  timeout connect 2s",
        "  timeout client 1h",
        "  timeout server 1h",
        "frontend agents",
        `  bind 127.0.0.1:${front}`,
        "  default_backend replicas",
        "backend replicas",
        `  server b 127.0.0.1:${agentB} check inter 500 fall 2 rise 1 on-marked-down shutdown-sessions`,
        `  server a 127.0.0.1:${agentA} check inter 500 fall 2 rise 1 backup`,
        "",
      ].join("\n"),
    );
    haproxy = spawn("haproxy", ["-db", "-f", config], { stdio: ["ignore", "ignore", "inherit"] });
    replicas.a = await startServerProcess(
      {
        ...shared,
        OCORE_DATA_DIR: tempDataDir(),
        OCORE_HTTP_ADDR: `127.0.0.1:${httpA}`,
        OCORE_AGENT_ADDR: `127.0.0.1:${agentA}`,
        OCORE_RELAY_ADDR: `127.0.0.1:${relayA}`,
      },
      120_000,
    );
    replicas.b = await startServerProcess(
      {
        ...shared,
        OCORE_DATA_DIR: tempDataDir(),
        OCORE_HTTP_ADDR: "127.0.0.1:0",
        OCORE_AGENT_ADDR: `127.0.0.1:${agentB}`,
        OCORE_RELAY_ADDR: `127.0.0.1:${relayB}`,
      },
      120_000,
    );
    const transport = createConnectTransport({ baseUrl: replicas.a.url, httpVersion: "1.1" });
    const oneTime = replicas.a.firstAdminPassword();
    const first = await createClient(AuthService, transport).login({ username: "admin", password: oneTime });
    const changed = await createClient(AuthService, transport).changePassword(
      { currentPassword: oneTime, newPassword: STRONG },
      { headers: { authorization: `Bearer ${first.tokens?.accessToken}` } },
    );
    headers = { authorization: `Bearer ${changed.tokens?.accessToken}` };
    await createClient(ServerService, transport).importServers(
      {
        format: DataFormat.JSON,
        data: new TextEncoder().encode(JSON.stringify([{ name: "replica-e2e-host", host: "127.0.0.1" }])),
      },
      { headers },
    );
    serverId =
      (await createClient(ServerService, transport).listServers({}, { headers })).servers[0]?.id ?? "";
    const { token, gatewayAddress } = await createClient(
      EnrollmentTokenService,
      transport,
    ).createEnrollmentToken({ serverId }, { headers });
    expect(gatewayAddress).toBe(`127.0.0.1:${front}`);
    await run(process.execPath, [agentMain, "enroll", "--server", gatewayAddress, "--token", token], {
      env: agentEnv(),
    });
    agent = spawn(process.execPath, [agentMain, "run"], {
      env: agentEnv(),
      stdio: ["ignore", "ignore", "inherit"],
    });
    const { ensureTestImage, DEFAULT_TEST_IMAGE } = (await import(testImageModule)) as {
      ensureTestImage(): Promise<string>;
      DEFAULT_TEST_IMAGE: string;
    };
    await ensureTestImage();
    // Prints its line every second, so whenever the follow starts a line comes live (a single
    // line a few seconds after the start was printed before the follow on a slow machine).
    await run("docker", [
      "run",
      "-d",
      "--name",
      container,
      DEFAULT_TEST_IMAGE,
      "sh",
      "-c",
      "while :; do echo relayed-line; sleep 1; done",
    ]);
  }, 300_000);

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((resolve) => agent?.once("exit", resolve));
      agent.kill("SIGTERM");
      await exited;
    }
    await run("docker", ["rm", "-f", container]).catch(() => undefined);
    await replicas.a?.stop();
    await replicas.b?.stop();
    haproxy?.kill("SIGTERM");
    await sql?.end();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  });

  it("runs a command started on the other replica once, and brings the agent back on the survivor after kill -9", async () => {
    const idA = await waitFor("replica A's row", () => replicaIdOf(relayA));
    const idB = await waitFor("replica B's row", () => replicaIdOf(relayB));
    await waitFor("the agent on replica B", async () => ((await holder()) === idB ? true : undefined));
    await waitFor("samples", async () => ((await sequences()).length >= 3 ? true : undefined));

    // Through A's API, while B holds the agent: the NOTIFY nudge gets it to B, the result back.
    const transport = createConnectTransport({ baseUrl: replicas.a?.url ?? "", httpVersion: "1.1" });
    const docker = createClient(DockerService, transport);
    await docker.listContainers({ serverId }, { headers, timeoutMs: 60_000 });
    const ran = await sql`select id, state from commands where server_id = ${serverId}`;
    expect(ran.map((row) => row.state)).toEqual(["succeeded"]);

    // A followed log on A, stored by B as the agent sends it: the line reaches A over the relay.
    const following = new AbortController();
    let logText = "";
    for await (const message of docker.streamContainerLogs(
      { serverId, options: { container, follow: true } },
      { headers, signal: following.signal, timeoutMs: 90_000 },
    )) {
      if (message.event.case === "output") logText += new TextDecoder().decode(message.event.value.data);
      if (logText.includes("relayed-line")) break;
    }
    following.abort();
    expect(logText).toContain("relayed-line");

    // kill -9 the agent's replica: HAProxy sends the reconnect to A.
    const before = (await sequences()).at(-1) ?? 0;
    const killedAt = Date.now();
    replicas.b?.child.kill("SIGKILL");
    await new Promise((resolve) => replicas.b?.child.once("exit", resolve));
    replicas.b = undefined;
    await waitFor("the agent on replica A", async () => ((await holder()) === idA ? true : undefined));
    const failoverMs = Date.now() - killedAt;
    console.info(`replicas e2e: agent back on the survivor ${failoverMs} ms after kill -9`);
    expect(failoverMs).toBeLessThan(FAILOVER_BOUND_MS + 15_000); // + the presence bound on a loaded machine
    // Every sample of the outage arrives once (the agent spools until acknowledged).
    await waitFor("samples after the failover", async () =>
      ((await sequences()).at(-1) ?? 0) >= before + 3 ? true : undefined,
    );
    const stored = await sequences();
    const firstSeq = stored[0] ?? 0;
    expect(stored).toEqual(Array.from({ length: stored.length }, (_, i) => firstSeq + i));
    // Still run once after the failover: nothing re-ran the finished command.
    const [listed] = await sql`select state from commands where id = ${ran[0]?.id}`;
    expect(listed?.state).toBe("succeeded");
    await docker.listContainers({ serverId }, { headers, timeoutMs: 60_000 });
  }, 300_000);
});
