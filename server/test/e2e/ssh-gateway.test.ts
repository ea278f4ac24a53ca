import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { pino } from "pino";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "../../src/domain/api-tokens/api-tokens.js";
import { systemContext } from "../../src/domain/audit/audit-context.js";
import { createAccessTokens } from "../../src/domain/auth/access-tokens.js";
import { createLoginLimiter } from "../../src/domain/auth/login-limiter.js";
import { hashPassword } from "../../src/domain/auth/passwords.js";
import { productRequirements } from "../../src/domain/provisioning/requirements.js";
import { addUserSshKey } from "../../src/domain/ssh-keys/user-ssh-keys.js";
import { createLiveSessions } from "../../src/domain/ssh-sessions/live-sessions.js";
import { readRecordingText } from "../../src/domain/ssh-sessions/read-recording.js";
import { startSessionRecording } from "../../src/domain/ssh-sessions/session-recorder.js";
import { createUser } from "../../src/domain/users/create-user.js";
import { userPrincipal } from "../../src/domain/users/load-principal.js";
import { updateUser } from "../../src/domain/users/update-user.js";
import { auditLog } from "../../src/platform/db/schema/audit.js";
import { sshSessions } from "../../src/platform/db/schema/ssh-sessions.js";
import { users } from "../../src/platform/db/schema/users.js";
import { createMasterKeyring } from "../../src/platform/pki/master-key.js";
import { type SshGateway, startSshGateway } from "../../src/startup/start-ssh-gateway.js";
import { type OnboardingHarness, startOnboarding, waitUntilActive } from "../support/onboarding-harness.js";
import { generateUserKey, type SshdHost, startSshdHost } from "../support/sshd-host.js";

const thisMachine = { ...productRequirements, minDocker: [20, 10] as const };
const PASSWORD = "a long and strong ssh password 7";
const E2E_TIMEOUT_MS = 240_000;

/** The .cast text of a session, once it holds `expected` (the recorder flushes within a second). */
async function castOf(harness: OnboardingHarness, sessionId: string, expected: string): Promise<string> {
  const until = Date.now() + 5_000;
  for (;;) {
    const text = await readRecordingText(harness.database.db, sessionId);
    if (text.includes(expected) || Date.now() > until) return text;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The SSH gateway end to end with stock OpenSSH: a loopback sshd host onboarded for real (agent
 * installed over SSH), then `ssh`/`sftp` through the gateway → agent tunnel → the host's sshd.
 */
describe("SSH gateway with stock OpenSSH, through the agent", () => {
  let sshd: SshdHost;
  let harness: OnboardingHarness;
  let gateway: SshGateway;
  const work = mkdtempSync(path.join(os.tmpdir(), "ocore-ssh-gw-"));
  const knownHosts = path.join(work, "known_hosts");
  const aliceKey = path.join(work, "alice");
  const viewerKey = path.join(work, "viewer");
  const askpass = path.join(work, "askpass.sh");
  let serverId = "";
  let aliceId = "";
  let token = "";
  const liveSessions = createLiveSessions();

  const ssh = (args: string[], options: { secret?: string; timeoutMs?: number } = {}): Promise<Ran> =>
    new Promise((resolve) => {
      const base = [
        "-p",
        String(gateway.port),
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=20",
        "-F",
        "/dev/null",
      ];
      const auth = options.secret
        ? [
            "-o",
            "BatchMode=no",
            "-o",
            "PreferredAuthentications=keyboard-interactive,password",
            "-o",
            "PubkeyAuthentication=no",
          ]
        : ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"];
      const env = {
        ...process.env,
        SSH_ASKPASS: askpass,
        SSH_ASKPASS_REQUIRE: "force",
        DISPLAY: ":0",
        OCORE_SECRET: options.secret ?? "",
      };
      const child = execFile(
        "ssh",
        [...base, ...auth, ...args],
        { env, timeout: options.timeoutMs ?? 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });

  beforeAll(async () => {
    const hostKey = generateUserKey();
    sshd = await startSshdHost([{ publicKey: hostKey.publicKey, sudo: true }]);
    harness = await startOnboarding("pglite", { requirements: thisMachine, agentWaitMs: 60_000 });
    const created = await harness.servers.createServer({
      name: "e2e-ssh",
      host: sshd.host,
      sshPort: sshd.port,
      sshUser: sshd.users[0]?.username ?? "",
      privateKey: hostKey.privateKey,
      tags: { env: "test" },
    });
    serverId = created.server?.id ?? "";
    await waitUntilActive(harness, serverId);

    const db = harness.database.db;
    const accessKey = randomBytes(32);
    gateway = await startSshGateway({
      db,
      logger: pino({ level: process.env.OCORE_TEST_LOG ?? "silent" }),
      now: () => new Date(),
      keyring: createMasterKeyring(randomBytes(32).toString("base64")),
      accessTokens: createAccessTokens(accessKey),
      limiter: createLoginLimiter(),
      listen: { host: "127.0.0.1", port: 0 },
      publicHost: "127.0.0.1",
      limits: {
        idleTimeoutSeconds: 600,
        maxSessionSeconds: 600,
        maxSessionsPerUser: 10,
        maxSessionsPerHost: 20,
      },
      tunnels: harness.channel.gateway.sshTunnels,
      revalidateEveryMs: 500,
      recording: {
        start: (db, start) =>
          startSessionRecording(db, start, { recordInput: false, maxBytes: 8 * 1024 * 1024 }),
        live: liveSessions,
      },
    });
    writeFileSync(knownHosts, `${gateway.info.knownHostsLine}\n`);
    writeFileSync(askpass, '#!/bin/sh\nprintf "%s\\n" "$OCORE_SECRET"\n');
    chmodSync(askpass, 0o755);

    const makeUser = async (username: string, role: string, keyFile: string) => {
      const made = await createUser(db, systemContext(), {
        username,
        roleBindings: [{ role, selector: "" }],
      });
      await db
        .update(users)
        .set({ passwordHash: await hashPassword(PASSWORD), mustChangePassword: false })
        .where(eq(users.id, made.user.id));
      const key = generateUserKey();
      writeFileSync(keyFile, key.privateKey, { mode: 0o600 });
      await addUserSshKey(
        db,
        systemContext(),
        made.user.id,
        { publicKey: key.publicKey, name: "e2e" },
        new Date(),
      );
      return made.user.id;
    };
    aliceId = await makeUser("alice", "operator", aliceKey);
    await makeUser("victor", "viewer", viewerKey);
    const [owner] = await db.select().from(users).where(eq(users.username, "admin"));
    if (!owner) throw new Error("no first admin");
    token = (
      await createApiToken(
        db,
        systemContext(),
        await userPrincipal(db, owner),
        { name: "ssh-e2e", role: "operator", selector: "", ttlDays: 1 },
        new Date(),
      )
    ).secret;
  }, E2E_TIMEOUT_MS);

  afterAll(async () => {
    await gateway?.close();
    await harness?.close();
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it(
    "runs a command with a registered key and passes its exit status; the host sees the gateway key from loopback only",
    async () => {
      const ran = await ssh([
        "-i",
        aliceKey,
        "alice+e2e-ssh@127.0.0.1",
        "echo through-the-agent; whoami; exit 7",
      ]);
      expect(ran.stderr).not.toMatch(/oCore:/);
      expect(ran.stdout).toBe(`through-the-agent\n${sshd.users[0]?.username}\n`);
      expect(ran.code).toBe(7);
      const [recorded] = await harness.database.db
        .select()
        .from(sshSessions)
        .where(eq(sshSessions.kind, "exec"));
      expect(recorded).toMatchObject({
        login: sshd.users[0]?.username,
        serverId,
        command: "echo through-the-agent; whoami; exit 7",
      });
      expect(await castOf(harness, recorded?.id ?? "", "through-the-agent")).toContain("through-the-agent");
      const authorized = readFileSync(
        path.join(sshd.users[0]?.home ?? "", ".ssh", "authorized_keys"),
        "utf8",
      );
      expect(authorized).toMatch(
        /^from="127\.0\.0\.1,::1",no-agent-forwarding,no-X11-forwarding ssh-ed25519 \S+ ocore-gateway$/m,
      );
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "logs in with the console password (keyboard-interactive) and with an API token as the password",
    async () => {
      const byPassword = await ssh(["alice+e2e-ssh@127.0.0.1", "echo password-ok"], { secret: PASSWORD });
      expect(byPassword.stdout, byPassword.stderr).toBe("password-ok\n");
      const byToken = await ssh(["anyone+e2e-ssh@127.0.0.1", "echo token-ok"], { secret: token });
      expect(byToken.stdout, byToken.stderr).toBe("token-ok\n");
      const wrong = await ssh(["alice+e2e-ssh@127.0.0.1", "true"], { secret: "not the password" });
      expect(wrong.code).toBe(255);
      expect(wrong.stderr).toMatch(/Permission denied/);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "refuses a viewer and a login the binding does not allow, with the same words for unknown servers",
    async () => {
      const viewer = await ssh(["-i", viewerKey, "victor+e2e-ssh@127.0.0.1", "true"]);
      expect(viewer.code).toBe(255);
      expect(viewer.stderr).toMatch(/oCore: no server "e2e-ssh" that you may reach over SSH/);
      const unknown = await ssh(["-i", aliceKey, "alice+nope@127.0.0.1", "true"]);
      expect(unknown.stderr).toMatch(/oCore: no server "nope" that you may reach over SSH/);
      const root = await ssh(["-i", aliceKey, "alice+e2e-ssh+root@127.0.0.1", "true"]);
      expect(root.stderr).toMatch(/you may not log in to e2e-ssh as "root"/);
      const syntax = await ssh(["-i", aliceKey, "alice+e2e-ssh+a+b@127.0.0.1", "true"]);
      expect(syntax.stderr).toMatch(/user\+server\[\+login\]@gateway/);
      const [refusal] = await harness.database.db
        .select()
        .from(auditLog)
        .where(eq(auditLog.action, "ssh.refused"));
      expect(refusal?.result).toBe("denied");
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "copies a file with sftp and sees the terminal size of a pty",
    async () => {
      const local = path.join(work, "payload.bin");
      writeFileSync(local, randomBytes(300_000));
      const batch = path.join(work, "batch");
      writeFileSync(batch, `put ${local} payload.bin\n`);
      const ran = await new Promise<Ran>((resolve) => {
        execFile(
          "sftp",
          [
            "-P",
            String(gateway.port),
            "-o",
            `UserKnownHostsFile=${knownHosts}`,
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-F",
            "/dev/null",
            "-i",
            aliceKey,
            "-b",
            batch,
            "alice+e2e-ssh@127.0.0.1",
          ],
          { timeout: 60_000 },
          (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
        );
      });
      expect(ran.code, ran.stderr).toBe(0);
      const remote = path.join(sshd.users[0]?.home ?? "", "payload.bin");
      expect(existsSync(remote)).toBe(true);
      expect(readFileSync(remote).equals(readFileSync(local))).toBe(true);
      // A resize reaches the host's pty: stty size there prints the new size.
      const client = new ssh2.Client();
      const output = await new Promise<string>((resolve, reject) => {
        let seen = "";
        client.on("ready", () => {
          client.shell({ term: "xterm", rows: 24, cols: 80 }, (error, channel) => {
            if (error) return reject(error);
            channel.on("data", (chunk: Buffer) => {
              seen += chunk.toString();
              if (/33 111/.test(seen)) resolve(seen);
            });
            channel.setWindow(33, 111, 0, 0);
            setTimeout(() => channel.write("stty size\n"), 500);
          });
        });
        client.on("error", reject);
        client.connect({
          host: "127.0.0.1",
          port: gateway.port,
          username: "alice+e2e-ssh",
          privateKey: readFileSync(aliceKey, "utf8"),
        });
        setTimeout(() => reject(new Error(`no "33 111" in: ${seen}`)), 20_000);
      }).finally(() => client.end());
      expect(output).toMatch(/33 111/);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "ends an open session when its user is disabled, with a message; start and end are audited",
    async () => {
      const child = spawn("ssh", [
        "-p",
        String(gateway.port),
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-F",
        "/dev/null",
        "-i",
        aliceKey,
        "alice+e2e-ssh@127.0.0.1",
        "echo started; sleep 60",
      ]);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      const until = Date.now() + 30_000;
      while (!stdout.includes("started") && Date.now() < until)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(stdout).toContain("started");
      const at = Date.now();
      await updateUser(harness.database.db, systemContext(), { id: aliceId, disabled: true });
      await exited;
      expect(Date.now() - at).toBeLessThan(10_000);
      expect(stderr).toMatch(/oCore: the session was ended: the account was disabled/);
      const db = harness.database.db;
      const starts = await db.select().from(auditLog).where(eq(auditLog.action, "ssh.session.start"));
      expect(starts.length).toBeGreaterThanOrEqual(3);
      const deadline = Date.now() + 5_000;
      let ends = 0;
      while (Date.now() < deadline && ends < starts.length) {
        ends = (await db.select().from(auditLog).where(eq(auditLog.action, "ssh.session.end"))).length;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(ends).toBe(starts.length);
    },
    E2E_TIMEOUT_MS,
  );
});
