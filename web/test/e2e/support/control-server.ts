import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const repoRoot = new URL("../../../../", import.meta.url).pathname;
const serverMain = path.join(repoRoot, "server/dist/main.js");
const webDir = path.join(repoRoot, "web");
/** Preload that ends the server when this test process is gone (see the server's test support). */
const dieWithParent = path.join(repoRoot, "server/test/support/die-with-parent.mjs");

export interface ControlServer {
  readonly url: string;
  /** Everything the server wrote to stderr so far (its first-start notes). */
  readonly stderr: () => string;
  /** The first admin's one-time password: not a terminal here, so the server wrote it to its data dir. */
  readonly firstAdminPassword: () => string;
  stop(): Promise<void>;
}

/** Starts the built control server with this console (the production build) in it. */
export function startControlServer(env: Record<string, string> = {}): Promise<ControlServer> {
  const dataDir = env.OCORE_DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), "ocore-web-e2e-"));
  const child: ChildProcess = spawn(process.execPath, ["--import", dieWithParent, serverMain], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      OCORE_HTTP_ADDR: "127.0.0.1:0",
      OCORE_AGENT_ADDR: "127.0.0.1:0",
      OCORE_SSH_LISTEN_ADDR: "127.0.0.1:0",
      OCORE_DATA_DIR: dataDir,
      OCORE_WEB_DIR: webDir,
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the control server did not start:\n${stderr}`));
    }, 90_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the control server exited with ${code}:\n${stderr}`));
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /is running: open (\S+)/.exec(stderr)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({
        url,
        stderr: () => stderr,
        firstAdminPassword: () => readFileSync(path.join(dataDir, "first-admin-password"), "utf8").trim(),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
  });
}
