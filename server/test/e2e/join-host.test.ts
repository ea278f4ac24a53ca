import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrollmentTokens } from "../../src/platform/db/schema/agent-identity.js";
import { joinCommands } from "../../src/platform/db/schema/join-commands.js";
import { metricSamples } from "../../src/platform/db/schema/metrics.js";
import { type OnboardingHarness, startOnboarding } from "../support/onboarding-harness.js";
import { ensureSystemdHostImage, type SystemdHost, startSystemdHost } from "../support/systemd-host.js";
import { startForeignTlsServer, startTamperingProxy } from "../support/tampering-proxy.js";

/** The Docker bridge's address on this machine: how a container reaches the control server. */
const DOCKER_HOST_ADDRESS = "172.17.0.1";
/**
 * The agent's stand-in instance images (Odoo, PostgreSQL, Mailpit on busybox, made with `docker
 * import`: no registry here), loaded from its test support by path, as the replicas e2e does.
 */
const instanceImagesModule = new URL("../../../agent/src/test/instance-test-images.ts", import.meta.url)
  .pathname;

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

/** True when neither the agent's files nor a unit of it are on the host. */
async function nothingInstalled(host: SystemdHost): Promise<string> {
  const left = await host.exec([
    "sh",
    "-c",
    "systemctl list-unit-files 'ocore-agent*' --no-legend 2>/dev/null; ls /opt; ls /etc/systemd/system",
  ]);
  return left.stdout.includes("ocore-agent") ? left.stdout : "";
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
  let image: string;

  beforeAll(async () => {
    image = await ensureSystemdHostImage();
    host = await startSystemdHost(image, { capAdd: ["NET_ADMIN"] });
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

  it("refuses another CA, a wrong pin and a tampered agent before installing; a failed requirement stops with its verdict", async () => {
    const upstream = { host: "127.0.0.1", port: harness.httpPort };
    const stepsOf = async (serverId: string) => {
      const server = (await harness.servers.getServer({ id: serverId })).server;
      return {
        status: server?.status,
        steps: (server?.provisioning?.steps ?? []).map((step) => `${step.step} ${step.status}`),
        verdicts: server?.provisioning?.verdicts ?? [],
      };
    };

    // Something else answers at the gateway's address: its certificate is not of the pinned CA.
    const foreign = await startForeignTlsServer(DOCKER_HOST_ADDRESS);
    const otherGateway = await startTamperingProxy(DOCKER_HOST_ADDRESS, upstream, {
      script: (text) => text.replace(/^gateway='[^']*'$/m, `gateway='${foreign.address}'`),
    });
    // The script carries a CA that is not the one its token pins.
    const wrongPin = await startTamperingProxy(DOCKER_HOST_ADDRESS, upstream, {
      script: (text) => text.replace(/^ca_sha256='[0-9a-f]{64}'$/m, `ca_sha256='${"0".repeat(64)}'`),
    });
    // The executable is changed on the way (one byte).
    const tamperedAgent = await startTamperingProxy(DOCKER_HOST_ADDRESS, upstream, {
      agent: (bytes) => {
        const changed = Buffer.from(bytes);
        changed[changed.length - 1] = (changed[changed.length - 1] ?? 0) ^ 0xff;
        return changed;
      },
    });
    try {
      const viaOther = await harness.joins.createJoinCommand({
        name: "other-ca",
        serverUrl: otherGateway.url,
        acceptedRequirements: ["docker"],
      });
      const other = await paste(host, viaOther.command);
      expect(other.code, other.output).toBe(4);
      expect(other.output).toContain(
        `the agent gateway ${foreign.address} did not present a certificate of the pinned CA`,
      );
      expect(other.output).toContain("Nothing was installed.");
      expect(
        otherGateway.paths.filter((p) => p.includes("/files/")),
        "nothing downloaded",
      ).toEqual([]);
      expect(await stepsOf(viaOther.joinCommand?.serverId ?? "")).toMatchObject({
        status: "failed",
        steps: ["connect failed"],
      });

      const viaWrongPin = await harness.joins.createJoinCommand({
        name: "wrong-pin",
        serverUrl: wrongPin.url,
        acceptedRequirements: ["docker"],
      });
      const pinned = await paste(host, viaWrongPin.command);
      expect(pinned.code, pinned.output).toBe(4);
      expect(pinned.output).toContain("does not match the pin of its token");
      expect(
        wrongPin.paths.filter((p) => p.includes("/files/")),
        "nothing downloaded",
      ).toEqual([]);

      const viaTampered = await harness.joins.createJoinCommand({
        name: "tampered-agent",
        serverUrl: tamperedAgent.url,
        acceptedRequirements: ["docker"],
      });
      const tampered = await paste(host, viaTampered.command);
      expect(tampered.code, tampered.output).toBe(10);
      expect(tampered.output).toMatch(
        /ocore-agent failed its checksum \(expected [0-9a-f]{64}, got [0-9a-f]{64}\)/,
      );
      expect(tampered.output).toContain("Nothing was installed.");
      expect(tamperedAgent.paths.some((p) => p.endsWith("/files/ocore-agent"))).toBe(true);
      const tamperedJob = await stepsOf(viaTampered.joinCommand?.serverId ?? "");
      expect(tamperedJob).toMatchObject({ status: "failed", steps: ["connect failed"] });
      // Each refused command is still unused: nothing enrolled with it.
      const states = await harness.joins.listJoinCommands({
        serverId: viaTampered.joinCommand?.serverId ?? "",
      });
      expect(states.joinCommands.map((j) => j.state)).toEqual(["valid"]);
    } finally {
      await otherGateway.close();
      await wrongPin.close();
      await tamperedAgent.close();
      await foreign.close();
    }

    // The host's Docker (20.10) is older than the product needs, and nothing accepts it here.
    const strict = await harness.joins.createJoinCommand({
      name: "old-docker",
      serverUrl: `http://${DOCKER_HOST_ADDRESS}:${harness.httpPort}`,
    });
    const blocked = await paste(host, strict.command);
    expect(blocked.code, blocked.output).toBe(20);
    expect(blocked.output).toContain("a requirement is not met (see above); nothing was installed");
    const job = await stepsOf(strict.joinCommand?.serverId ?? "");
    expect(job.status).toBe("failed");
    expect(job.steps).toEqual(["connect succeeded", "check failed"]);
    const docker = job.verdicts.find((verdict) => verdict.id === "docker");
    expect(docker?.verdict).toBe("fail");
    // The host prints the verdict the console shows, word for word (SSH onboarding's judgement).
    expect(blocked.output).toContain(`  FAIL ${docker?.title}: ${docker?.message}`);
    expect(docker?.message).toMatch(/^Docker 20\.10\S* is too old: oCore needs Docker Engine /);
    // How to go ahead anyway is a new join command, not RetryProvisioning (the server cannot SSH in).
    expect(docker?.message).toContain('CreateJoinCommand with accepted_requirements ["docker"]');
    expect(await nothingInstalled(host), "nothing installed after the refusals").toBe("");
  }, 240_000);

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

    // An Odoo instance on the joined host, through the agent the join installed: the server asks
    // the agent for its ports, records the instance, and the agent creates and starts it on the
    // host's Docker (the stand-in images: the same contract with the agent as the real ones).
    const { ensureInstanceTestImages } = (await import(instanceImagesModule)) as {
      ensureInstanceTestImages(): Promise<{ odoo: string; postgres: string; mailpit: string }>;
    };
    const images = await ensureInstanceTestImages();
    const instance = await harness.instances.createInstance({
      serverId,
      name: `joined-${randomBytes(3).toString("hex")}`,
      odooImage: images.odoo,
      postgresImage: images.postgres,
      mailpitImage: images.mailpit,
    });
    expect(instance.instance?.state).toBe("creating");
    expect(instance.instance?.webPort).toBeGreaterThan(0);
    const ended = await poll(
      "the instance's creation to end",
      async () => {
        const found = (await harness.instances.getInstance({ id: instance.instance?.id ?? "" })).instance;
        return found && found.state !== "creating" ? found : undefined;
      },
      120_000,
    );
    expect(ended.state, ended.stateMessage).toBe("running");
    // The host's Docker is this machine's: its web port answers here.
    const page = await poll(
      "the instance's web port to answer",
      () =>
        fetch(`http://127.0.0.1:${ended.webPort}/`).then(
          (r) => r.text(),
          () => undefined,
        ),
      60_000,
    );
    expect(page).toContain("odoo stand-in");
    await harness.instances.deleteInstance({ id: instance.instance?.id ?? "" });
    // The removal (a backup first, then the containers) runs on the agent: let it end before the
    // agent is uninstalled.
    await poll(
      "the instance's removal",
      () =>
        harness.instances.getInstance({ id: instance.instance?.id ?? "" }).then(
          () => undefined,
          () => true,
        ),
      120_000,
    );

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

  it("joins a host without systemd under the supervisor, after its missing Docker stopped a first try", async () => {
    const container = `h2122-plain-${randomBytes(4).toString("hex")}`;
    execFileSync("docker", ["run", "-d", "--name", container, image, "sleep", "infinity"]);
    const plain: SystemdHost = {
      ...host,
      container,
      exec: async (argv) => ({
        stdout: execFileSync("docker", ["exec", container, ...argv]).toString(),
        stderr: "",
      }),
      stop: async () => {
        execFileSync("docker", ["rm", "-f", container], { stdio: "ignore" });
      },
    };
    try {
      const serverUrl = `http://${DOCKER_HOST_ADDRESS}:${harness.httpPort}`;
      const first = await harness.joins.createJoinCommand({ name: "no-systemd", serverUrl });
      const serverId = first.joinCommand?.serverId ?? "";
      const missing = await paste(plain, first.command);
      expect(missing.code, missing.output).toBe(20);
      expect(missing.output).toMatch(/^ {2}FAIL Docker Engine: Docker is not installed/m);
      expect(missing.output).toMatch(/^ {2}WARN Service manager: systemd is not running/m);
      expect(await nothingInstalled(plain)).toBe("");

      const accepted = await harness.joins.createJoinCommand({
        serverId,
        serverUrl,
        acceptedRequirements: ["docker"],
      });
      const joined = await paste(plain, accepted.command);
      expect(joined.code, joined.output).toBe(0);
      expect(joined.output).toContain('server "no-systemd" is active');
      const server = (await harness.servers.getServer({ id: serverId })).server;
      expect(server?.status).toBe("active");
      expect(server?.installMode).toBe("supervised");
      // The first attempt's steps stay, as after an SSH onboarding retry; the second one joined.
      expect(
        (server?.provisioning?.steps ?? []).map((step) => `${step.attempt} ${step.step} ${step.status}`),
      ).toEqual([
        "1 connect succeeded",
        "1 check failed",
        "2 connect succeeded",
        "2 check succeeded",
        "2 install succeeded",
        "2 wait_agent succeeded",
      ]);
      expect(server?.provisioning?.steps.find((step) => step.step === "install")?.message).toContain(
        "under the supervisor script (no systemd on this host)",
      );

      const removed = await paste(plain, accepted.uninstallCommand);
      expect(removed.code, removed.output).toBe(0);
      expect(removed.output).toContain("OCORE_RESULT removed");
      expect(await nothingInstalled(plain)).toBe("");
    } finally {
      await plain.stop();
    }
  }, 240_000);
});
