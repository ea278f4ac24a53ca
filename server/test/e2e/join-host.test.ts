import { spawn } from "node:child_process";
import net from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrollmentTokens } from "../../src/platform/db/schema/agent-identity.js";
import { joinCommands } from "../../src/platform/db/schema/join-commands.js";
import { metricSamples } from "../../src/platform/db/schema/metrics.js";
import { type OnboardingHarness, startOnboarding } from "../support/onboarding-harness.js";
import { ensureSystemdHostImage, type SystemdHost, startSystemdHost } from "../support/systemd-host.js";

/** The Docker bridge's address on this machine: how a container reaches the control server. */
const DOCKER_HOST_ADDRESS = "172.17.0.1";

async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Runs `command` in the host's root shell as a person pasting it would; never rejects. */
function paste(host: SystemdHost, command: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("docker", ["exec", host.container, "sh", "-c", command]);
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** The first line a TCP server sends within `ms` ("" when nothing arrives). */
function banner(port: number, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let data = "";
    const done = () => {
      socket.destroy();
      resolve(data);
    };
    socket.setTimeout(ms, done);
    socket.on("data", (chunk) => {
      data += chunk.toString();
      if (data.includes("\n")) done();
    });
    socket.on("error", done);
    socket.on("close", done);
  });
}

/**
 * Issue 22: a real systemd host (Debian booted with systemd as PID 1) that the control server
 * cannot reach (iptables drops inbound SSH but on loopback) joins with the command exactly as
 * the API returns it, ends active with metrics; a used, revoked or expired command is refused
 * with a clear message; a new command on the joined host re-installs in place; the printed
 * uninstall command removes the agent.
 */
describe("joining a host the server cannot reach", () => {
  let host: SystemdHost;
  let harness: OnboardingHarness;

  beforeAll(async () => {
    host = await startSystemdHost(await ensureSystemdHostImage(), { capAdd: ["NET_ADMIN"] });
    harness = await startOnboarding("postgres", {
      agentHost: DOCKER_HOST_ADDRESS,
      installPrefix: "/opt/ocore-agent",
      http: true,
    });
  }, 900_000);
  afterAll(async () => {
    await harness?.close();
    await host?.stop();
  });

  it("joins from the host with the pasted command, refuses reuse, re-installs in place and uninstalls", async () => {
    expect((await banner(host.sshPort, 5_000)).startsWith("SSH-")).toBe(true);
    await host.exec(["iptables", "-I", "INPUT", "-p", "tcp", "--dport", "22", "!", "-i", "lo", "-j", "DROP"]);
    expect(await banner(host.sshPort, 2_000), "inbound SSH must be dropped").toBe("");

    const serverUrl = `http://${DOCKER_HOST_ADDRESS}:${harness.httpPort}`;
    const created = await harness.joins.createJoinCommand({
      name: "joined-host",
      tags: { env: "test", role: "db" },
      serverUrl,
      // The host's Docker is this machine's 20.10 (mounted socket): too old for the product, accepted here.
      acceptedRequirements: ["docker"],
    });
    const serverId = created.joinCommand?.serverId ?? "";
    expect(created.command).toMatch(
      new RegExp(`^curl -sSL ${serverUrl}/join/[A-Za-z0-9_-]{43} \\| sudo sh$`),
    );
    expect(created.joinCommand?.state).toBe("valid");
    expect((await harness.servers.getServer({ id: serverId })).server?.status).toBe("pending");

    const started = Date.now();
    const joined = await paste(host, created.command);
    const seconds = (Date.now() - started) / 1000;
    expect(joined.code, joined.output).toBe(0);
    expect(joined.output).toContain('server "joined-host" is active');
    expect(joined.output).toMatch(/^ {2}PASS Service manager: systemd runs the host/m);
    expect(joined.output).toMatch(/^ {2}FAIL \(accepted\) Docker Engine: /m);

    const server = (await harness.servers.getServer({ id: serverId })).server;
    expect(server?.status, `${server?.statusReason}: ${server?.statusMessage}`).toBe("active");
    expect(server?.installMode).toBe("systemd");
    expect(server?.tags).toEqual({ env: "test", role: "db" });
    const steps = (server?.provisioning?.steps ?? []).map((step) => `${step.step} ${step.status}`);
    expect(steps).toEqual([
      "connect succeeded",
      "check succeeded",
      "install succeeded",
      "wait_agent succeeded",
    ]);
    expect(server?.provisioning?.verdicts.find((v) => v.id === "init")?.verdict).toBe("pass");
    console.log(
      [
        `join: paste → active in ${seconds.toFixed(1)} s`,
        ...(server?.provisioning?.steps ?? []).map((s) => `step ${s.step} ${s.status}: ${s.message}`),
      ].join("\n"),
    );
    const unit = await host.exec(["systemctl", "show", "-p", "ActiveState", "-p", "Restart", "ocore-agent"]);
    expect(unit.stdout).toContain("ActiveState=active");
    expect(unit.stdout).toContain("Restart=always");
    await poll(
      "a metric sample from the joined host",
      async () => {
        const rows = await harness.database.db
          .select({ at: metricSamples.serverId })
          .from(metricSamples)
          .where(eq(metricSamples.serverId, serverId))
          .limit(1);
        return rows.length > 0 ? true : undefined;
      },
      30_000,
    );

    // The same command again: refused with a clear message, the running agent untouched.
    const reused = await paste(host, created.command);
    expect(reused.code).toBe(1);
    expect(reused.output).toContain("this join command was already used");
    expect((await host.exec(["systemctl", "is-active", "ocore-agent"])).stdout.trim()).toBe("active");

    // An expired and a revoked command: refused before anything is downloaded.
    const expiring = await harness.joins.createJoinCommand({ serverId, serverUrl });
    const [row] = await harness.database.db
      .select({ tokenId: joinCommands.enrollmentTokenId })
      .from(joinCommands)
      .where(eq(joinCommands.id, expiring.joinCommand?.id ?? ""));
    await harness.database.db
      .update(enrollmentTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(enrollmentTokens.id, row?.tokenId ?? ""));
    const expired = await paste(host, expiring.command);
    expect(expired.code).toBe(1);
    expect(expired.output).toMatch(/this join command expired at .*; nothing was changed/);
    const revoking = await harness.joins.createJoinCommand({ serverId, serverUrl });
    await harness.joins.revokeJoinCommand({ id: revoking.joinCommand?.id ?? "" });
    const revoked = await paste(host, revoking.command);
    expect(revoked.code).toBe(1);
    expect(revoked.output).toMatch(/this join command was revoked .*; nothing was changed/);

    // A new command for the joined server, in its download-then-verify form: re-installs in place.
    const again = await harness.joins.createJoinCommand({
      serverId,
      serverUrl,
      acceptedRequirements: ["docker"],
    });
    const rerun = await paste(host, again.verifiedCommand);
    expect(rerun.code, rerun.output).toBe(0);
    expect(rerun.output).toContain("ocore-join.sh: OK");
    expect(rerun.output).toContain('server "joined-host" is active');
    const listed = (await harness.joins.listJoinCommands({ serverId })).joinCommands.map((j) => j.state);
    expect(listed).toEqual(["used", "revoked", "expired", "used"]);

    const removed = await paste(host, again.uninstallCommand);
    expect(removed.code, removed.output).toBe(0);
    expect(removed.output).toContain("OCORE_RESULT removed");
    const left = await host.exec([
      "sh",
      "-c",
      "systemctl list-unit-files 'ocore-agent*' --no-legend; ls /opt",
    ]);
    expect(left.stdout).not.toContain("ocore-agent");
  }, 240_000);
});
