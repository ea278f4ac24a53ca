import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { hostKeyFingerprint } from "../../src/platform/ssh/host-key.js";
import { freePort } from "./free-port.js";

const SSHD = "/usr/sbin/sshd";

export interface TestUserSpec {
  /** Log in with this password. */
  readonly password?: string;
  /** Log in with this OpenSSH public key line. */
  readonly publicKey?: string;
  /** Passwordless sudo (a file in /etc/sudoers.d). */
  readonly sudo?: boolean;
  /** sshd sets the user's PATH to a directory with the usual tools but no docker. */
  readonly withoutDocker?: boolean;
  /** Log in as root instead of a new user (key only; root's files are not touched). */
  readonly root?: boolean;
}

export interface TestUser {
  readonly username: string;
  readonly home: string;
}

export interface SshdHost {
  readonly host: string;
  readonly port: number;
  /** The fingerprint of the ed25519 host key, as OpenSSH prints it. */
  hostKeyFingerprint(): string;
  readonly users: readonly TestUser[];
  /** Generates new host keys and restarts sshd on the same port (a reinstalled host). */
  replaceHostKey(): Promise<void>;
  /** Stops sshd (the host stays, its users too) until startSshd(). */
  stopSshd(): Promise<void>;
  /** Starts sshd again on the same port with the same keys. */
  startSshd(): Promise<void>;
  stop(): Promise<void>;
}

/** An OpenSSH key pair made with ssh-keygen (optionally with a passphrase). */
export function generateUserKey(passphrase = ""): { privateKey: string; publicKey: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocore-key-"));
  try {
    const file = path.join(dir, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", "ocore-test", "-f", file]);
    return { privateKey: readFileSync(file, "utf8"), publicKey: readFileSync(`${file}.pub`, "utf8").trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Debian's sshd on a loopback port with its own config, host keys and authorized-keys
 * directory, and real Linux users created for the test (removed again by stop()).
 */
export async function startSshdHost(users: readonly TestUserSpec[]): Promise<SshdHost> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocore-sshd-"));
  chmodSync(dir, 0o755); // sshd reads the authorized keys as the logging-in user
  const keysDir = path.join(dir, "authorized_keys");
  mkdirSync(keysDir, { mode: 0o755 });
  mkdirSync("/run/sshd", { recursive: true });
  const pathWithoutDocker = makePathWithoutDocker(path.join(dir, "bin-without-docker"));
  const created: TestUser[] = [];
  const matchBlocks: string[] = [];
  const sudoers: string[] = [];
  try {
    for (const spec of users) {
      const user = spec.root ? { username: "root", home: "/root" } : createUser(spec);
      created.push(user);
      if (spec.publicKey)
        writeFileSync(path.join(keysDir, user.username), `${spec.publicKey}\n`, { mode: 0o644 });
      if (spec.sudo && !spec.root) {
        const file = `/etc/sudoers.d/${user.username.replaceAll(".", "_")}`;
        writeFileSync(file, `${user.username} ALL=(ALL) NOPASSWD:ALL\n`, { mode: 0o440 });
        sudoers.push(file);
      }
      if (spec.withoutDocker)
        matchBlocks.push(`Match User ${user.username}`, `  SetEnv PATH=${pathWithoutDocker}`);
    }
  } catch (error) {
    removeUsers(created, sudoers);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const port = await freePort();
  const config = path.join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${path.join(dir, "ssh_host_ed25519_key")}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${keysDir}/%u .ssh/authorized_keys`,
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication yes",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "MaxStartups 50",
      "LogLevel VERBOSE",
      "Subsystem sftp internal-sftp",
      ...matchBlocks,
      "",
    ].join("\n"),
  );
  let child: ChildProcess | undefined;
  let log = "";
  const makeHostKey = () => {
    rmSync(path.join(dir, "ssh_host_ed25519_key"), { force: true });
    rmSync(path.join(dir, "ssh_host_ed25519_key.pub"), { force: true });
    execFileSync("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-f",
      path.join(dir, "ssh_host_ed25519_key"),
    ]);
  };
  const start = async () => {
    child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.on("data", (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-20_000);
    });
    await waitForPort(port, () => log);
  };
  const stopDaemon = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGTERM");
    await exited;
  };
  makeHostKey();
  await start();
  return {
    host: "127.0.0.1",
    port,
    users: created,
    hostKeyFingerprint: () => {
      const line = readFileSync(path.join(dir, "ssh_host_ed25519_key.pub"), "utf8").split(" ");
      return hostKeyFingerprint(Buffer.from(line[1] ?? "", "base64"));
    },
    async replaceHostKey() {
      await stopDaemon();
      makeHostKey();
      await start();
    },
    stopSshd: () => stopDaemon(),
    startSshd: () => start(),
    async stop() {
      await stopDaemon();
      removeUsers(created, sudoers);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function createUser(spec: TestUserSpec): TestUser {
  const username = `oct${randomBytes(4).toString("hex")}`;
  execFileSync("useradd", ["--create-home", "--shell", "/bin/bash", username]);
  if (spec.password) execFileSync("chpasswd", { input: `${username}:${spec.password}\n` });
  // Without PAM, sshd refuses keys for a locked account ("!" in shadow): mark it "no password" instead.
  else execFileSync("usermod", ["-p", "*", username]);
  return { username, home: `/home/${username}` };
}

function removeUsers(users: readonly TestUser[], sudoers: readonly string[]): void {
  for (const file of sudoers) rmSync(file, { force: true });
  for (const user of users) {
    if (user.username === "root") continue;
    killProcessesOf(user.username);
    try {
      execFileSync("userdel", ["--remove", user.username], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
}

/** Ends what the test user still runs (an agent it started), by process id. */
function killProcessesOf(username: string): void {
  let pids: string[] = [];
  try {
    pids = execFileSync("ps", ["-o", "pid=", "-u", username], { encoding: "utf8" })
      .split(/\s+/)
      .filter(Boolean);
  } catch {
    return; // ps exits 1 when the user runs nothing
  }
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
}

function makePathWithoutDocker(binDir: string): string {
  mkdirSync(binDir);
  for (const source of ["/usr/bin", "/usr/sbin"]) {
    for (const name of readdirSync(source)) {
      if (name.startsWith("docker")) continue;
      try {
        symlinkSync(path.join(source, name), path.join(binDir, name));
      } catch {
        // a name in both directories: the first wins
      }
    }
  }
  return binDir;
}

async function waitForPort(port: number, log: () => string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not listen on ${port} within ${timeoutMs} ms:\n${log()}`);
}
