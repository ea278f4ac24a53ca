import { Code, ConnectError } from "@connectrpc/connect";
import type { Server } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAgentExecutable, loadAgentRelease } from "../../src/domain/agent-release/agent-release.js";
import { metricSamples } from "../../src/platform/db/schema/metrics.js";
import { type OnboardingHarness, startOnboarding } from "../support/onboarding-harness.js";
import { ensureSystemdHostImage, type SystemdHost, startSystemdHost } from "../support/systemd-host.js";

/** The Docker bridge's address on this machine: how a container reaches the gateway. */
const DOCKER_HOST_ADDRESS = "172.17.0.1";

async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * A real systemd host: Debian bookworm booted with systemd as PID 1 in a container, onboarded
 * through the API by password. The agent must run as a systemd service there and reach active.
 */
describe("onboarding a real systemd host", () => {
  let host: SystemdHost;
  let harness: OnboardingHarness;

  beforeAll(async () => {
    host = await startSystemdHost(await ensureSystemdHostImage());
    harness = await startOnboarding("postgres", {
      agentHost: DOCKER_HOST_ADDRESS,
      installPrefix: "/opt/ocore-agent",
    });
  }, 900_000);
  afterAll(async () => {
    await harness?.close();
    await host?.stop();
  });

  it("installs the agent as a systemd service by password and reaches active with metrics; delete removes it", async () => {
    const release = await loadAgentRelease(defaultAgentExecutable());
    const started = Date.now();
    const created = await harness.servers.createServer({
      name: "systemd-host",
      host: "127.0.0.1",
      sshPort: host.sshPort,
      sshUser: host.user,
      password: host.password,
      // The host's Docker is this machine's 20.10 (mounted socket): too old for the product, accepted here.
      acceptedRequirements: ["docker"],
    });
    const id = created.server?.id ?? "";
    const server = await poll<Server>(
      "the server to settle",
      async () => {
        const current = (await harness.servers.getServer({ id })).server;
        return current && (current.status === "active" || current.status === "failed") ? current : undefined;
      },
      180_000,
    );
    const seconds = (Date.now() - started) / 1000;
    expect(server.status, `${server.statusReason}: ${server.statusMessage}`).toBe("active");
    expect(server.installMode).toBe("systemd");
    const verdicts = server.provisioning?.verdicts ?? [];
    console.log(
      [
        `systemd host: create → active in ${seconds.toFixed(1)} s; agent executable ${release.size} bytes (${(release.size / 1024 / 1024).toFixed(1)} MiB)`,
        ...verdicts.map(
          (v) => `${v.verdict.toUpperCase()}${v.accepted ? " (accepted)" : ""} ${v.title}: ${v.message}`,
        ),
        ...(server.provisioning?.steps ?? []).map((s) => `step ${s.step} ${s.status}: ${s.message}`),
      ].join("\n"),
    );
    expect(verdicts.find((v) => v.id === "init")?.verdict).toBe("pass");
    expect(verdicts.find((v) => v.id === "docker")).toMatchObject({ verdict: "fail", accepted: true });

    const state = await host.exec([
      "systemctl",
      "show",
      "-p",
      "ActiveState",
      "-p",
      "Restart",
      "-p",
      "MainPID",
      "ocore-agent.service",
    ]);
    expect(state.stdout).toContain("ActiveState=active");
    expect(state.stdout).toContain("Restart=always");
    await poll(
      "a metric sample from the systemd host",
      async () => {
        const rows = await harness.database.db
          .select()
          .from(metricSamples)
          .where(eq(metricSamples.serverId, id));
        return rows.length > 0 ? rows : undefined;
      },
      60_000,
    );

    await harness.servers.deleteServer({ id });
    await poll(
      "the server's records to go",
      () =>
        harness.servers.getServer({ id }).then(
          () => undefined,
          (error: unknown) => {
            if (error instanceof ConnectError && error.code === Code.NotFound) return true;
            throw error;
          },
        ),
      90_000,
    );
    await poll(
      "the agent's unit to leave the host",
      async () => {
        const listed = await host.exec([
          "sh",
          "-c",
          "systemctl list-unit-files ocore-agent.service --no-legend; ls /opt",
        ]);
        return listed.stdout.includes("ocore-agent") ? undefined : true;
      },
      60_000,
    );
  }, 420_000);
});
