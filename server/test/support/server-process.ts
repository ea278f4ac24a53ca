import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** The documented entry point: runs dist/main.js on the bundled Node.js 22. */
const ocoreServer = new URL("../../../bin/ocore-server", import.meta.url).pathname;
/** Preload for every process a suite starts: it exits when the suite's process is gone. */
export const DIE_WITH_PARENT = new URL("./die-with-parent.mjs", import.meta.url).href;

/** PATH without node_modules/.bin: the server must not depend on which `node` comes first. */
function pathWithoutBundledNode(): string {
  return (process.env.PATH ?? "")
    .split(":")
    .filter((dir) => !dir.endsWith("node_modules/.bin"))
    .join(":");
}

export interface ServerProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Everything the process wrote to stdout (its log) so far. */
  stdout(): string;
  /**
   * The first admin's one-time password: stderr is no terminal here, so the server wrote it to
   * `first-admin-password` in its data directory.
   */
  firstAdminPassword(): string;
  /**
   * Values that must never appear in the process's output: the secrets in its environment and
   * the first admin's password are remembered at once; a test adds what it creates (tokens,
   * channel secrets). `stop()` fails, naming where, when one was written.
   */
  rememberSecret(...values: string[]): void;
  /** Where remembered secrets appear in the output so far ("stdout: token #2", …); empty when none. */
  leakedSecrets(): string[];
  /** Sends SIGTERM and resolves with the exit code; rejects if a remembered secret was logged. */
  stop(): Promise<number | null>;
}

/** Environment variables whose values are secrets (checked in the process's output). */
const SECRET_ENV = /(KEY|SECRET|TOKEN|PASSWORD)$/;

export interface ExitedServer {
  readonly code: number | null;
  readonly stderr: string;
  readonly stdout: string;
}

/** A scratch data directory for one server process. */
export function tempDataDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), "ocore-e2e-"));
}

/**
 * Starts bin/ocore-server (dist/main.js on the bundled Node.js 22, the PATH's node aside) with
 * the test defaults under `env`; it dies with this process.
 */
export function spawnServer(env: Record<string, string>): ChildProcess {
  return spawn(ocoreServer, [], {
    env: {
      PATH: pathWithoutBundledNode(),
      NODE_OPTIONS: `--import=${JSON.stringify(DIE_WITH_PARENT)}`,
      OCORE_HTTP_ADDR: "127.0.0.1:0",
      OCORE_AGENT_ADDR: "127.0.0.1:0",
      OCORE_SSH_LISTEN_ADDR: "127.0.0.1:0",
      OCORE_CONSOLE: "off",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Starts the built server (dist/main.js) and resolves once it prints its URL. */
export function startServerProcess(
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<ServerProcess> {
  const dataDir = env.OCORE_DATA_DIR ?? tempDataDir();
  const child = spawnServer({ OCORE_DATA_DIR: dataDir, ...env });
  let stderr = "";
  let stdout = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the server did not start in ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /is running: open (\S+)/.exec(stderr);
      if (!match?.[1]) return;
      clearTimeout(timer);
      const exited = new Promise<number | null>((done) => {
        if (child.exitCode !== null) done(child.exitCode);
        else child.once("exit", (code) => done(code));
      });
      const secrets = Object.entries(env)
        .filter(([name, value]) => SECRET_ENV.test(name) && value.length >= 8)
        .map(([, value]) => value);
      const firstAdminPassword = () =>
        readFileSync(path.join(dataDir, "first-admin-password"), "utf8").trim();
      const leakedSecrets = () => {
        const found: string[] = [];
        secrets.forEach((secret, index) => {
          if (stdout.includes(secret)) found.push(`stdout: secret #${index + 1}`);
          if (stderr.includes(secret)) found.push(`stderr: secret #${index + 1}`);
        });
        return found;
      };
      resolve({
        url: match[1],
        dataDir,
        child,
        stderr: () => stderr,
        stdout: () => stdout,
        firstAdminPassword: () => {
          const password = firstAdminPassword();
          if (!secrets.includes(password)) secrets.push(password);
          return password;
        },
        rememberSecret: (...values) => {
          for (const value of values) if (value.length >= 8 && !secrets.includes(value)) secrets.push(value);
        },
        leakedSecrets,
        stop: async () => {
          child.kill("SIGTERM");
          const code = await exited;
          const leaked = leakedSecrets();
          if (leaked.length > 0)
            throw new Error(`the server logged secrets it was given: ${leaked.join(", ")}`);
          return code;
        },
      });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code} before it was ready:\n${stderr}`));
    });
  });
}

/** Runs a server that is expected to refuse to start, and collects what it said. */
export function runFailingServer(env: Record<string, string>, timeoutMs = 30_000): Promise<ExitedServer> {
  const child = spawnServer(env);
  let stderr = "";
  let stdout = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the server was expected to stop but still runs after ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}
