import { execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeApiToken } from "../../src/domain/api-tokens/api-tokens.js";
import { systemContext } from "../../src/domain/audit/audit-context.js";
import { auditLog } from "../../src/platform/db/schema/audit.js";
import { servers } from "../../src/platform/db/schema/servers.js";
import { freePort } from "../support/free-port.js";
import {
  type SshGatewayFixture,
  startSshGatewayFixture,
  TIGHT_LIMITS,
} from "../support/ssh-gateway-fixture.js";

const E2E_TIMEOUT_MS = 240_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The text a TCP connection to 127.0.0.1:port receives before it closes ("" when refused). */
async function readConnection(port: number, timeoutMs = 30_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const result = await new Promise<{ text: string } | { error: string }>((resolve) => {
      let text = "";
      const socket = net.connect({ host: "127.0.0.1", port });
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      socket.on("close", () => resolve({ text }));
      socket.on("error", (error) => resolve({ error: error.message }));
      socket.setTimeout(20_000, () => socket.destroy());
    });
    if ("text" in result) return result.text;
    if (Date.now() > until) throw new Error(`could not connect to ${port}: ${result.error}`);
    await sleep(200);
  }
}

/**
 * The SSH gateway's edges with stock OpenSSH, on one onboarded loopback host shared by all cases:
 * -L forwarding and its refusal, the picker, an offline agent, a stopped sshd, idle and session
 * length limits, a revoked token, failed key logins in the audit log, and a client that stops reading.
 */
describe("SSH gateway edges with stock OpenSSH", () => {
  let fx: SshGatewayFixture;
  const audits = (action: string) =>
    fx.harness.database.db.select().from(auditLog).where(eq(auditLog.action, action));

  beforeAll(async () => {
    fx = await startSshGatewayFixture();
    // A server whose agent never connected here: reachable by RBAC, offline for the tunnel.
    await fx.harness.database.db
      .insert(servers)
      .values({ name: "e2e-ghost", host: "192.0.2.7", status: "offline", tags: { env: "test" } });
  }, E2E_TIMEOUT_MS);

  afterAll(async () => {
    await fx?.close();
  });

  it(
    "forwards -L to a port on the host for a role with servers.ssh.forward, refuses it without, audits both",
    async () => {
      const service = net.createServer((socket) => socket.end("hello-from-the-host\n"));
      await new Promise<void>((resolve) => service.listen(0, "127.0.0.1", resolve));
      const servicePort = (service.address() as net.AddressInfo).port;
      const forward = async (user: string) => {
        const local = await freePort();
        const running = fx.spawnSsh(
          ["-N", "-L", `${local}:127.0.0.1:${servicePort}`, `${user}+${fx.serverName}@127.0.0.1`],
          { key: fx.keys[user] },
        );
        try {
          return { text: await readConnection(local), stderr: running.stderr };
        } finally {
          running.child.kill("SIGTERM");
          await running.exited;
        }
      };
      try {
        const allowed = await forward("alice");
        expect(allowed.text).toBe("hello-from-the-host\n");
        const refused = await forward("nina");
        expect(refused.text).toBe("");
        expect(refused.stderr()).toMatch(/open failed/);
      } finally {
        service.close();
      }
      const entries = await audits("ssh.forward");
      expect(entries.map((entry) => [entry.actorName, entry.result])).toEqual([
        ["alice", "success"],
        ["nina", "denied"],
      ]);
      expect(entries[1]?.detail).toMatch(/servers\.ssh\.forward not held/);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "offers a picker of the reachable servers when no server is named, and a viewer gets none",
    async () => {
      const running = fx.spawnSsh(["-tt", "alice@127.0.0.1"], { stdin: "pipe" });
      await running.waitFor("Server number or name");
      expect(running.stdout()).toMatch(/e2e-edge/);
      expect(running.stdout()).toMatch(/e2e-ghost \(offline\)/);
      running.child.stdin?.write(`${fx.serverName}\n`);
      await sleep(1000);
      running.child.stdin?.write("echo picked-$((6*7))\n");
      await running.waitFor("picked-42");
      running.child.stdin?.end("exit\n");
      expect(await running.exited).toBe(0);

      const viewer = await fx.ssh(["-tt", "victor@127.0.0.1"], { key: fx.keys.victor });
      expect(viewer.stdout).toMatch(/there is no server you may reach over SSH/);
      expect(viewer.code).toBe(1);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "says so when the server's agent is offline and when the host's sshd is down",
    async () => {
      const offline = await fx.ssh(["alice+e2e-ghost@127.0.0.1", "true"]);
      expect(offline.code).toBe(255);
      expect(offline.stderr).toMatch(/oCore: the server's agent is offline/);

      await fx.sshd.stopSshd();
      try {
        const down = await fx.ssh([`alice+${fx.serverName}@127.0.0.1`, "true"]);
        expect(down.code).toBe(255);
        expect(down.stderr).toMatch(/oCore: the host's sshd is not reachable on 127\.0\.0\.1:\d+/);
      } finally {
        await fx.sshd.startSshd();
      }
      const again = await fx.ssh([`alice+${fx.serverName}@127.0.0.1`, "echo back"]);
      expect(again.stdout, again.stderr).toBe("back\n");
      const refusals = (await audits("ssh.refused")).map((entry) => entry.detail);
      expect(refusals).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/agent is offline/),
          expect.stringMatching(/sshd is not reachable/),
        ]),
      );
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "ends an idle session and one past its maximum length, each with the limit and its setting",
    async () => {
      const idle = fx.spawnSsh([`alice+${fx.serverName}@127.0.0.1`, "echo started; sleep 120"], {
        gateway: "tight",
      });
      const busy = fx.spawnSsh(
        [`alice+${fx.serverName}@127.0.0.1`, "while :; do echo tick; sleep 0.5; done"],
        { gateway: "tight" },
      );
      await Promise.all([idle.waitFor("started"), busy.waitFor("tick")]);
      const at = Date.now();
      await idle.exited;
      expect(idle.stderr()).toMatch(
        `oCore: the session was idle for ${TIGHT_LIMITS.idleTimeoutSeconds} s (OCORE_SSH_IDLE_TIMEOUT_SECONDS)`,
      );
      expect(Date.now() - at).toBeLessThan(30_000);
      await busy.exited;
      expect(busy.stderr()).toMatch(
        `oCore: the session reached its maximum length of ${TIGHT_LIMITS.maxSessionSeconds} s (OCORE_SSH_MAX_SESSION_SECONDS)`,
      );
      // It was busy the whole time: the idle limit did not end it.
      expect(busy.stdout().split("tick").length).toBeGreaterThan(TIGHT_LIMITS.idleTimeoutSeconds * 2);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "ends a session opened with an API token when the token is revoked, with a message",
    async () => {
      const token = await fx.newToken("revoked-mid-session");
      const running = fx.spawnSsh([`robot+${fx.serverName}@127.0.0.1`, "echo started; sleep 120"], {
        secret: token.secret,
      });
      await running.waitFor("started");
      await revokeApiToken(fx.harness.database.db, systemContext(), token.id, new Date());
      await running.exited;
      expect(running.stderr()).toMatch(/oCore: the session was ended: the API token was revoked/);
      // A new connection with it is refused at once, and that is audited too.
      const again = await fx.ssh([`robot+${fx.serverName}@127.0.0.1`, "true"], { secret: token.secret });
      expect(again.code).toBe(255);
      const refusals = await fx.harness.database.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.action, "ssh.login"), eq(auditLog.result, "denied")));
      expect(refusals.map((entry) => entry.detail)).toContainEqual(
        expect.stringMatching(/token refused: the API token is unknown, revoked or expired/),
      );
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "audits refused public keys, aggregated: one entry per address and username per window",
    async () => {
      const before = (await audits("ssh.login")).filter((entry) => entry.actorName === "mallory").length;
      expect(before).toBe(0);
      // alice's key offered as mallory (no such user) and nina's key offered as alice.
      for (let attempt = 0; attempt < 3; attempt++) {
        const ran = await fx.ssh([`mallory+${fx.serverName}@127.0.0.1`, "true"], { key: fx.keys.alice });
        expect(ran.code).toBe(255);
        expect(ran.stderr).toMatch(/Permission denied/);
      }
      const foreign = await fx.ssh([`alice+${fx.serverName}@127.0.0.1`, "true"], { key: fx.keys.nina });
      expect(foreign.code).toBe(255);
      const entries = (await audits("ssh.login")).filter((entry) => entry.result === "denied");
      const mallory = entries.filter((entry) => entry.actorName === "mallory");
      expect(mallory).toHaveLength(1);
      expect(mallory[0]?.detail).toMatch(
        /publickey refused for "mallory": public key SHA256:\S+ is not registered/,
      );
      expect(mallory[0]?.sourceIp).toBe("127.0.0.1");
      expect(entries.filter((entry) => entry.actorName === "alice")).toHaveLength(1);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "jumps with ssh -J to a named server, terminated and authorized at the gateway; the nested username is the login",
    async () => {
      const gateway = fx.gateways.normal;
      const knownHosts = path.join(fx.work, "jump_known_hosts");
      writeFileSync(
        knownHosts,
        `${gateway.info.knownHostsLine}\n${fx.serverName},e2e-nowhere ${gateway.info.hostPublicKey}\n`,
      );
      const config = path.join(fx.work, "jump_config");
      writeFileSync(
        config,
        [
          "Host *",
          `  UserKnownHostsFile ${knownHosts}`,
          "  GlobalKnownHostsFile /dev/null",
          "  StrictHostKeyChecking yes",
          "  BatchMode yes",
          `  IdentityFile ${fx.keys.alice}`,
          "  IdentitiesOnly yes",
          "Host gw",
          "  HostName 127.0.0.1",
          `  Port ${gateway.port}`,
          "  User alice",
          `Host ${fx.serverName} e2e-nowhere`,
          "  ProxyJump gw",
          "",
        ].join("\n"),
      );
      const jump = (target: string, command: string) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          execFile("ssh", ["-F", config, target, command], { timeout: 90_000 }, (error, stdout, stderr) =>
            resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
          );
        });
      const login = fx.sshd.users[0]?.username ?? "";
      const byDefault = await jump(`alice@${fx.serverName}`, "echo jumped; whoami");
      expect(byDefault.stdout, byDefault.stderr).toBe(`jumped\n${login}\n`);
      const named = await jump(`${login}@${fx.serverName}`, "echo named");
      expect(named.stdout, named.stderr).toBe("named\n");
      const root = await jump(`root@${fx.serverName}`, "true");
      expect(root.code).toBe(255);
      expect(root.stderr).toMatch(/oCore: you may not log in to e2e-edge as "root"/);
      const unknown = await jump("alice@e2e-nowhere", "true");
      expect(unknown.code).toBe(255);
      expect(unknown.stderr).toMatch(/oCore: no server "e2e-nowhere" that you may reach over SSH/);
      const starts = (await audits("ssh.session.start")).filter((entry) =>
        entry.detail.startsWith(`${login}@${fx.serverName}`),
      );
      expect(starts.length).toBeGreaterThanOrEqual(2);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "a client that stops reading holds the host back instead of filling the gateway's memory; others go on",
    async () => {
      const baseline = process.memoryUsage();
      // stdout and stderr both flood; the ssh client's stdout is a pipe nobody reads.
      const child = spawn(
        "ssh",
        [
          ...fx.baseArgs("unrecorded"),
          "-o",
          "BatchMode=yes",
          "-o",
          "IdentitiesOnly=yes",
          "-i",
          fx.keys.alice ?? "",
          `alice+${fx.serverName}@127.0.0.1`,
          "yes stderr-flood | head -c 1000000000 >&2 & yes stdout-flood | head -c 1000000000; wait",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      const exited = new Promise((resolve) => child.once("exit", resolve));
      const endsBefore = (await audits("ssh.session.end")).length;
      await sleep(10_000);
      const stalled = process.memoryUsage();
      const other = await fx.ssh([`alice+${fx.serverName}@127.0.0.1`, "echo still-serving"], {
        gateway: "unrecorded",
      });
      expect(other.stdout, other.stderr).toBe("still-serving\n");
      child.kill("SIGKILL");
      await exited;
      const bytesOut = (entry: typeof auditLog.$inferSelect) =>
        (JSON.parse(entry.afterJson) as { bytesOut: number }).bytesOut;
      let ends: (typeof auditLog.$inferSelect)[] = [];
      const until = Date.now() + 30_000;
      while (ends.length < 2 && Date.now() < until) {
        ends = (await audits("ssh.session.end")).slice(endsBefore);
        await sleep(200);
      }
      const flooded = Math.max(...ends.map(bytesOut));
      // What left the host is bounded by the SSH windows (a few MB), not by the 2 GB it offered.
      expect(flooded).toBeGreaterThan(100_000);
      expect(flooded).toBeLessThan(32 * 1024 * 1024);
      expect(stalled.arrayBuffers - baseline.arrayBuffers).toBeLessThan(64 * 1024 * 1024);
      expect(stalled.heapUsed - baseline.heapUsed).toBeLessThan(128 * 1024 * 1024);
    },
    E2E_TIMEOUT_MS,
  );
});
