import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { pino } from "pino";
import { createApiToken } from "../../src/domain/api-tokens/api-tokens.js";
import { systemContext } from "../../src/domain/audit/audit-context.js";
import { createAccessTokens } from "../../src/domain/auth/access-tokens.js";
import { createLoginLimiter } from "../../src/domain/auth/login-limiter.js";
import { hashPassword } from "../../src/domain/auth/passwords.js";
import { productRequirements } from "../../src/domain/provisioning/requirements.js";
import { addUserSshKey } from "../../src/domain/ssh-keys/user-ssh-keys.js";
import { createLiveSessions } from "../../src/domain/ssh-sessions/live-sessions.js";
import { startSessionRecording } from "../../src/domain/ssh-sessions/session-recorder.js";
import { createUser } from "../../src/domain/users/create-user.js";
import { userPrincipal } from "../../src/domain/users/load-principal.js";
import { createRole } from "../../src/domain/users/roles.js";
import type { SshSessionLimits } from "../../src/platform/config/config.js";
import { users } from "../../src/platform/db/schema/users.js";
import { createMasterKeyring } from "../../src/platform/pki/master-key.js";
import { type SshGateway, startSshGateway } from "../../src/startup/start-ssh-gateway.js";
import { type OnboardingHarness, startOnboarding, waitUntilActive } from "./onboarding-harness.js";
import { generateUserKey, type SshdHost, startSshdHost } from "./sshd-host.js";

type Gateway = "normal" | "tight" | "unrecorded";

export const SSH_PASSWORD = "a long and strong ssh password 7";

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A long-running `ssh` whose output the test reads as it comes. */
export interface RunningSsh {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<number | null>;
  /** Resolves once stdout holds `text` (rejects after `timeoutMs`). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

export interface SshGatewayFixture {
  readonly harness: OnboardingHarness;
  readonly sshd: SshdHost;
  /** The managed server (the loopback sshd, onboarded for real with its agent). */
  readonly serverId: string;
  readonly serverName: string;
  readonly work: string;
  /** The private key file that logs in to the host's sshd directly (the login the gateway uses). */
  readonly hostUserKey: string;
  /** Users by name → private key file. */
  readonly keys: Record<string, string>;
  readonly userIds: Record<string, string>;
  /**
   * The gateway with generous limits; `tight` has short idle and session limits; `unrecorded`
   * records nothing (so only the gateway's own back-pressure bounds what it holds).
   */
  readonly gateways: {
    readonly normal: SshGateway;
    readonly tight: SshGateway;
    readonly unrecorded: SshGateway;
  };
  /** An API token of the first admin with the operator role. */
  newToken(name: string): Promise<{ id: string; secret: string }>;
  /** Runs `ssh` to completion (key login with `key`, or a typed secret). */
  ssh(args: string[], options?: SshOptions): Promise<Ran>;
  /** Starts `ssh` and returns at once. */
  spawnSsh(args: string[], options?: SshOptions & { stdin?: "pipe" | "ignore" }): RunningSsh;
  /** The OpenSSH options every call uses (port, known_hosts, no config file). */
  baseArgs(gateway?: Gateway): string[];
  close(): Promise<void>;
}

export interface SshOptions {
  readonly key?: string;
  readonly secret?: string;
  readonly gateway?: Gateway;
  readonly timeoutMs?: number;
}

export const TIGHT_LIMITS: SshSessionLimits = {
  idleTimeoutSeconds: 3,
  maxSessionSeconds: 12,
  maxSessionsPerUser: 10,
  maxSessionsPerHost: 20,
};

/**
 * One loopback sshd host onboarded for real (agent installed over SSH) and two SSH gateways on
 * it (normal and tight limits) that share the database and host key, with users `alice`
 * (operator), `nina` (a role with servers.ssh but not servers.ssh.forward) and `victor` (viewer).
 */
export async function startSshGatewayFixture(): Promise<SshGatewayFixture> {
  const work = mkdtempSync(path.join(os.tmpdir(), "ocore-ssh-gw-"));
  const knownHosts = path.join(work, "known_hosts");
  const askpass = path.join(work, "askpass.sh");
  const hostKey = generateUserKey();
  const hostUserKey = path.join(work, "host-user");
  writeFileSync(hostUserKey, hostKey.privateKey, { mode: 0o600 });
  const sshd = await startSshdHost([{ publicKey: hostKey.publicKey, sudo: true }]);
  const harness = await startOnboarding("pglite", {
    requirements: { ...productRequirements, minDocker: [20, 10] as const },
    agentWaitMs: 60_000,
  });
  const serverName = "e2e-edge";
  const created = await harness.servers.createServer({
    name: serverName,
    host: sshd.host,
    sshPort: sshd.port,
    sshUser: sshd.users[0]?.username ?? "",
    privateKey: hostKey.privateKey,
    tags: { env: "test" },
  });
  const serverId = created.server?.id ?? "";
  await waitUntilActive(harness, serverId);

  const db = harness.database.db;
  const keyring = createMasterKeyring(randomBytes(32).toString("base64"));
  const accessTokens = createAccessTokens(randomBytes(32));
  const live = createLiveSessions();
  const startGateway = (limits: SshSessionLimits, recorded = true) =>
    startSshGateway({
      db,
      logger: pino({ level: process.env.OCORE_TEST_LOG ?? "silent" }),
      now: () => new Date(),
      keyring,
      accessTokens,
      limiter: createLoginLimiter(),
      listen: { host: "127.0.0.1", port: 0 },
      publicHost: "127.0.0.1",
      limits,
      tunnels: harness.channel.gateway.sshTunnels,
      revalidateEveryMs: 500,
      denialWindowMs: 60_000,
      recording: recorded
        ? {
            start: (db, start) =>
              startSessionRecording(db, start, { recordInput: false, maxBytes: 256 * 1024 * 1024 }),
            live,
          }
        : undefined,
    });
  const generous: SshSessionLimits = {
    idleTimeoutSeconds: 600,
    maxSessionSeconds: 600,
    maxSessionsPerUser: 100,
    maxSessionsPerHost: 100,
  };
  const gateways = {
    normal: await startGateway(generous),
    tight: await startGateway(TIGHT_LIMITS),
    unrecorded: await startGateway(generous, false),
  };
  writeFileSync(
    knownHosts,
    `${Object.values(gateways)
      .map((gateway) => gateway.info.knownHostsLine)
      .join("\n")}\n`,
  );
  writeFileSync(askpass, '#!/bin/sh\nprintf "%s\\n" "$OCORE_SECRET"\n');
  chmodSync(askpass, 0o755);

  await createRole(db, systemContext(), {
    name: "ssh-no-forward",
    permissions: ["servers.read", "servers.ssh"],
    description: "SSH without forwarding",
  });
  const keys: Record<string, string> = {};
  const userIds: Record<string, string> = {};
  for (const [username, role] of [
    ["alice", "operator"],
    ["nina", "ssh-no-forward"],
    ["victor", "viewer"],
  ] as const) {
    const made = await createUser(db, systemContext(), { username, roleBindings: [{ role, selector: "" }] });
    await db
      .update(users)
      .set({ passwordHash: await hashPassword(SSH_PASSWORD), mustChangePassword: false })
      .where(eq(users.id, made.user.id));
    const key = generateUserKey();
    const file = path.join(work, username);
    writeFileSync(file, key.privateKey, { mode: 0o600 });
    await addUserSshKey(
      db,
      systemContext(),
      made.user.id,
      { publicKey: key.publicKey, name: "e2e" },
      new Date(),
    );
    keys[username] = file;
    userIds[username] = made.user.id;
  }

  const baseArgs = (gateway: Gateway = "normal") => [
    "-p",
    String(gateways[gateway].port),
    "-o",
    `UserKnownHostsFile=${knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=30",
    "-F",
    "/dev/null",
  ];
  const argsOf = (args: string[], options: SshOptions) => {
    const auth = options.secret
      ? [
          "-o",
          "BatchMode=no",
          "-o",
          "PreferredAuthentications=keyboard-interactive,password",
          "-o",
          "PubkeyAuthentication=no",
        ]
      : ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", options.key ?? keys.alice ?? ""];
    return [...baseArgs(options.gateway), ...auth, ...args];
  };
  const envOf = (options: SshOptions) => ({
    ...process.env,
    SSH_ASKPASS: askpass,
    SSH_ASKPASS_REQUIRE: "force",
    DISPLAY: ":0",
    OCORE_SECRET: options.secret ?? "",
  });

  const [owner] = await db.select().from(users).where(eq(users.username, "admin"));
  if (!owner) throw new Error("no first admin");

  return {
    harness,
    sshd,
    serverId,
    serverName,
    work,
    hostUserKey,
    keys,
    userIds,
    gateways,
    baseArgs,
    async newToken(name) {
      const made = await createApiToken(
        db,
        systemContext(),
        await userPrincipal(db, owner),
        { name, role: "operator", selector: "", ttlDays: 1 },
        new Date(),
      );
      return { id: made.token.id, secret: made.secret };
    },
    ssh(args, options = {}) {
      return new Promise((resolve) => {
        const child = execFile(
          "ssh",
          argsOf(args, options),
          { env: envOf(options), timeout: options.timeoutMs ?? 90_000 },
          (error, stdout, stderr) =>
            resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
        );
        child.stdin?.end();
      });
    },
    spawnSsh(args, options = {}) {
      const child = spawn("ssh", argsOf(args, options), {
        env: envOf(options),
        stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      return {
        child,
        stdout: () => stdout,
        stderr: () => stderr,
        exited,
        async waitFor(text, timeoutMs = 60_000) {
          const until = Date.now() + timeoutMs;
          const seen = () => (typeof text === "string" ? stdout.includes(text) : text.test(stdout));
          while (!seen()) {
            if (Date.now() > until || child.exitCode !== null)
              throw new Error(
                `no ${String(text)} in stdout: ${stdout.slice(-500)}; stderr: ${stderr.slice(-500)}`,
              );
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        },
      };
    },
    async close() {
      for (const gateway of Object.values(gateways)) await gateway.close();
      await harness.close();
      await sshd.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
