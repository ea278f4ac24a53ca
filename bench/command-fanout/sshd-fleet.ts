// 50 (or N) throwaway OpenSSH daemons on loopback (Debian's /usr/sbin/sshd, each with its own
// config, host key and port), accepting root with one generated key; and `ssh host cmd` to all
// of them in parallel.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "@ocore/server/testing/free-port";

export interface SshdFleet {
  readonly ports: number[];
  /** Runs `command` on every host with one `ssh` process each, all at once; resolves with the ms it took. */
  runEverywhere(command: string): Promise<{ totalMs: number; perHostMs: number[] }>;
  stop(): Promise<void>;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`sshd on port ${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startSshdFleet(count: number): Promise<SshdFleet> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocore-bench-sshd-"));
  mkdirSync("/run/sshd", { recursive: true });
  const clientKey = path.join(dir, "client_key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", clientKey]);
  const authorized = path.join(dir, "authorized_keys");
  execFileSync("cp", [`${clientKey}.pub`, authorized]);
  const daemons: ChildProcess[] = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const host = path.join(dir, `host-${i}`);
      mkdirSync(host);
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(host, "host_key")]);
      const port = await freePort();
      const config = path.join(host, "sshd_config");
      writeFileSync(
        config,
        [
          `Port ${port}`,
          "ListenAddress 127.0.0.1",
          `HostKey ${path.join(host, "host_key")}`,
          `PidFile ${path.join(host, "sshd.pid")}`,
          `AuthorizedKeysFile ${authorized}`,
          "StrictModes no",
          "UsePAM no",
          "PasswordAuthentication no",
          "KbdInteractiveAuthentication no",
          "PermitRootLogin prohibit-password",
          "MaxStartups 200",
          "LogLevel ERROR",
          // The session's shell reads $HOME/.bashrc: a host dir with none keeps this machine's
          // root shell setup (pyenv's rehash takes a lock, 50 at once queue for minutes) out.
          `SetEnv HOME=${host}`,
          "",
        ].join("\n"),
      );
      daemons.push(spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config], { stdio: "ignore" }));
      ports.push(port);
    }
    await Promise.all(ports.map((port) => waitForPort(port)));
  } catch (error) {
    for (const daemon of daemons) daemon.kill();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const sshOnce = (port: number, command: string) =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const child = spawn(
        "ssh",
        [
          "-i",
          clientKey,
          "-p",
          String(port),
          "-o",
          "BatchMode=yes",
          "-o",
          "StrictHostKeyChecking=no",
          "-o",
          "UserKnownHostsFile=/dev/null",
          "-o",
          "LogLevel=ERROR",
          "root@127.0.0.1",
          command,
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      child.stdout.resume();
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.once("exit", (code) =>
        code === 0
          ? resolve(performance.now() - started)
          : reject(new Error(`ssh to port ${port} exited with ${code}: ${stderr}`)),
      );
    });

  return {
    ports,
    async runEverywhere(command) {
      const started = performance.now();
      const perHostMs = await Promise.all(ports.map((port) => sshOnce(port, command)));
      return { totalMs: performance.now() - started, perHostMs };
    },
    async stop() {
      await Promise.all(
        daemons.map(
          (daemon) =>
            new Promise<void>((resolve) => {
              if (daemon.exitCode !== null) return resolve();
              daemon.once("exit", () => resolve());
              daemon.kill();
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
