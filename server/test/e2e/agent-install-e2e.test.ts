import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { AgentReleaseService as GatewayReleaseService } from "@ocore/proto/gen/ocore/agent/v1/release_service_pb.js";
import { AgentReleaseService } from "@ocore/proto/gen/ocore/api/v1/agent_release_service_pb.js";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { EnrollmentTokenService } from "@ocore/proto/gen/ocore/api/v1/enrollment_token_service_pb.js";
import { DataFormat, ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";

const run = promisify(execFile);
const repo = new URL("../../../", import.meta.url).pathname;
const installScript = path.join(repo, "deploy/host/install-agent.sh");
const uninstallScript = path.join(repo, "deploy/host/uninstall-agent.sh");
const builtAgent = path.join(repo, "agent/dist-sea/ocore-agent");
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

const sha256Of = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** Puts an executable and its sidecar where the server's OCORE_AGENT_EXECUTABLE points. */
function publishRelease(releasePath: string, source: string, version: string): void {
  copyFileSync(source, releasePath);
  const size = statSync(releasePath).size;
  writeFileSync(`${releasePath}.json`, JSON.stringify({ version, sha256: sha256Of(releasePath), size }));
}

/** Calls the gateway's DownloadAgent as `credentials` and resolves with the gRPC status code. */
function downloadStatus(
  address: string,
  credentials: grpc.ChannelCredentials,
  sha256: string,
): Promise<number> {
  const definition = createGrpcServiceDefinition(GatewayReleaseService);
  const ReleaseClient = grpc.makeGenericClientConstructor(definition, "AgentReleaseService");
  const client = new ReleaseClient(address, credentials);
  const call = client.makeServerStreamRequest(
    definition.downloadAgent.path,
    definition.downloadAgent.requestSerialize,
    definition.downloadAgent.responseDeserialize,
    { $typeName: "ocore.agent.v1.DownloadAgentRequest", sha256 },
  );
  return new Promise<number>((resolve) => {
    call.on("data", () => {});
    call.on("error", (error: grpc.ServiceError) => resolve(error.code));
    call.on("end", () => resolve(grpc.status.OK));
  }).finally(() => client.close());
}

const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * deploy/host/install-agent.sh for real, in supervised mode, into a temporary prefix, against
 * the real server process: install → connected; self-upgrade over the stream to another build;
 * an upgrade to an executable that crashes at start is rolled back; uninstall removes it all.
 */
describe("installing, upgrading and removing the agent executable on a host", () => {
  let server: ServerProcess | undefined;
  let headers: Record<string, string>;
  let serverId = "";
  let gatewayAddress = "";
  const work = mkdtempSync(path.join(os.tmpdir(), "ocore-agent-install-"));
  const prefix = path.join(work, "host-a");
  const releaseDir = path.join(work, "release");
  const releasePath = path.join(releaseDir, "ocore-agent");
  let transport: ReturnType<typeof createConnectTransport>;
  let servers: Client<typeof ServerService>;

  const newToken = async () => {
    const created = await createClient(EnrollmentTokenService, transport).createEnrollmentToken(
      { serverId },
      { headers },
    );
    gatewayAddress = created.gatewayAddress;
    const file = path.join(work, `token-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, created.token, { mode: 0o600 });
    return file;
  };
  const install = (args: Record<string, string>) =>
    run("bash", [installScript, ...Object.entries(args).flatMap(([name, value]) => [`--${name}`, value])], {
      timeout: 90_000,
    });
  const serverRow = async () => (await servers.getServer({ id: serverId }, { headers })).server;

  beforeAll(async () => {
    if (!existsSync(`${builtAgent}.json`)) {
      throw new Error(`${builtAgent} is not built: run \`npm run build:agent\` first`);
    }
    // A second release with another version, built the same way as the first.
    await run(
      process.execPath,
      [
        path.join(repo, "agent/scripts/build-executable.mjs"),
        "--version",
        "9.9.9-upgrade-test",
        "--out",
        path.join(work, "next"),
      ],
      { timeout: 120_000 },
    );
    mkdirSync(releaseDir);
    publishRelease(releasePath, builtAgent, JSON.parse(readFileSync(`${builtAgent}.json`, "utf8")).version);

    const agentPort = await freePort();
    server = await startServerProcess({
      OCORE_AGENT_ADDR: `127.0.0.1:${agentPort}`,
      OCORE_AGENT_PUBLIC_ADDR: `127.0.0.1:${agentPort}`,
      OCORE_AGENT_HOSTNAMES: "127.0.0.1,localhost",
      OCORE_AGENT_EXECUTABLE: releasePath,
    });
    transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
    const oneTime = server.firstAdminPassword();
    const first = await createClient(AuthService, transport).login({ username: "admin", password: oneTime });
    const changed = await createClient(AuthService, transport).changePassword(
      { currentPassword: oneTime, newPassword: STRONG },
      { headers: { authorization: `Bearer ${first.tokens?.accessToken}` } },
    );
    headers = { authorization: `Bearer ${changed.tokens?.accessToken}` };
    servers = createClient(ServerService, transport);
    await servers.importServers(
      {
        format: DataFormat.JSON,
        data: new TextEncoder().encode(JSON.stringify([{ name: "install-host", host: "127.0.0.1" }])),
      },
      { headers },
    );
    serverId = (await servers.listServers({}, { headers })).servers[0]?.id ?? "";
  }, 180_000);

  afterAll(async () => {
    if (existsSync(path.join(prefix, "libexec/uninstall-agent.sh"))) {
      await run("bash", [uninstallScript, "--prefix", prefix], { timeout: 90_000 }).catch(() => undefined);
    }
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it("refuses a binary whose checksum does not match (exit 10) and deletes the token anyway", async () => {
    const token = await newToken();
    const failure = await install({
      prefix,
      binary: builtAgent,
      sha256: "0".repeat(64),
      server: gatewayAddress,
      "token-file": token,
      mode: "supervised",
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 10 });
    expect((failure as { stderr: string }).stderr).toContain("checksum mismatch");
    expect(existsSync(token)).toBe(false);
    expect(existsSync(path.join(prefix, "bin/ocore-agent"))).toBe(false);
  });

  it("refuses bad arguments with exit 2 and a usage line", async () => {
    const failure = await install({ prefix: "relative/dir", mode: "supervised" }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain("Usage: install-agent.sh");
  });

  it("installs supervised: enrolls, starts, the agent connects; the token file is gone", async () => {
    const token = await newToken();
    const { stdout } = await install({
      prefix,
      binary: builtAgent,
      sha256: sha256Of(builtAgent),
      server: gatewayAddress,
      "token-file": token,
      mode: "auto",
      "unit-name": "ocore-agent-e2e",
    });
    // This machine's PID 1 is not systemd: auto falls back to the supervisor.
    expect(stdout.trim().split("\n").at(-1)).toBe("OCORE_RESULT mode=supervised");
    expect(existsSync(token)).toBe(false);
    expect(statSync(path.join(prefix, "etc/agent.env")).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(prefix, "etc/agent.env"), "utf8")).toContain(
      `OCORE_AGENT_SERVER=${gatewayAddress}`,
    );
    const row = await waitFor("the agent to connect", async () => {
      const current = await serverRow();
      return current?.status === "active" ? current : undefined;
    });
    expect(row.agentVersion).toBe(JSON.parse(readFileSync(`${builtAgent}.json`, "utf8")).version);
  }, 120_000);

  it("re-running the install upgrades in place: a new supervisor, the agent connected again", async () => {
    const before = Number(readFileSync(path.join(prefix, "run/supervisor.pid"), "utf8"));
    const { stdout } = await install({
      prefix,
      binary: builtAgent,
      sha256: sha256Of(builtAgent),
      server: gatewayAddress,
      "token-file": await newToken(),
      mode: "supervised",
    });
    expect(stdout.trim().split("\n").at(-1)).toBe("OCORE_RESULT mode=supervised");
    expect(processAlive(before)).toBe(false);
    expect(Number(readFileSync(path.join(prefix, "run/supervisor.pid"), "utf8"))).not.toBe(before);
    await waitFor("the agent to connect again", async () =>
      (await serverRow())?.status === "active" ? true : undefined,
    );
  }, 120_000);

  it("upgrades itself over the stream to the server's release and reconnects with it", async () => {
    publishRelease(releasePath, path.join(work, "next/ocore-agent"), "9.9.9-upgrade-test");
    const release = await createClient(AgentReleaseService, transport).getRelease({}, { headers });
    expect(release.version).toBe("9.9.9-upgrade-test");

    const upgraded = await createClient(AgentReleaseService, transport).upgradeAgent(
      { serverId },
      { headers, timeoutMs: 240_000 },
    );
    expect(upgraded.version).toBe("9.9.9-upgrade-test");
    expect(upgraded.alreadyCurrent).toBe(false);
    expect(sha256Of(path.join(prefix, "bin/ocore-agent"))).toBe(release.sha256);
    await waitFor("the upgrade marker to be removed", async () =>
      existsSync(path.join(prefix, "bin/ocore-agent.upgrade")) ? undefined : true,
    );
    expect(existsSync(path.join(prefix, "bin/ocore-agent.prev"))).toBe(true);

    const again = await createClient(AgentReleaseService, transport).upgradeAgent(
      { serverId },
      { headers, timeoutMs: 120_000 },
    );
    expect(again.alreadyCurrent).toBe(true);
  }, 300_000);

  it("hands the executable only to an enrolled agent, and only the release it was told about", async () => {
    const state = path.join(prefix, "state");
    const asAgent = grpc.credentials.createSsl(
      readFileSync(path.join(state, "ca.pem")),
      readFileSync(path.join(state, "key.pem")),
      readFileSync(path.join(state, "cert.pem")),
    );
    const current = sha256Of(releasePath);
    expect(await downloadStatus(gatewayAddress, asAgent, current)).toBe(grpc.status.OK);
    expect(await downloadStatus(gatewayAddress, asAgent, "f".repeat(64))).toBe(
      grpc.status.FAILED_PRECONDITION,
    );
    const anonymous = grpc.credentials.createSsl(readFileSync(path.join(state, "ca.pem")));
    expect(await downloadStatus(gatewayAddress, anonymous, current)).toBe(grpc.status.UNAUTHENTICATED);
  }, 60_000);

  it("rolls an executable that crashes at start back to the previous one", async () => {
    const crashing = path.join(work, "crashing-agent");
    // Passes the upgrade's self-test (`version`), then dies on every start.
    writeFileSync(
      crashing,
      '#!/bin/sh\nif [ "$1" = version ]; then echo 9.9.10-crashes; exit 0; fi\necho "crashing on purpose" >&2\nexit 3\n',
      { mode: 0o755 },
    );
    publishRelease(releasePath, crashing, "9.9.10-crashes");
    const failure = await createClient(AgentReleaseService, transport)
      .upgradeAgent({ serverId }, { headers, timeoutMs: 240_000 })
      .catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain("came back with 9.9.9-upgrade-test");
    expect((failure as Error).message).toContain("rolled back");
    expect(sha256Of(path.join(prefix, "bin/ocore-agent"))).toBe(
      sha256Of(path.join(work, "next/ocore-agent")),
    );
    expect(existsSync(path.join(prefix, "bin/ocore-agent.upgrade"))).toBe(false);
    expect(readFileSync(path.join(prefix, "log/agent.log"), "utf8")).toContain("rolled back");
  }, 300_000);

  it("uninstalls: supervisor and agent stopped, every file removed", async () => {
    const supervisor = Number(readFileSync(path.join(prefix, "run/supervisor.pid"), "utf8"));
    const agent = Number(readFileSync(path.join(prefix, "run/agent.pid"), "utf8"));
    const { stdout } = await run("bash", [uninstallScript, "--prefix", prefix], { timeout: 90_000 });
    expect(stdout.trim().split("\n").at(-1)).toBe("OCORE_RESULT removed");
    expect(processAlive(supervisor)).toBe(false);
    expect(processAlive(agent)).toBe(false);
    expect(existsSync(prefix)).toBe(false);
    await waitFor("the server to show the agent offline", async () =>
      (await serverRow())?.status === "offline" ? true : undefined,
    );
  }, 120_000);
});
