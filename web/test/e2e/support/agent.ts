import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const repoRoot = new URL("../../../../", import.meta.url).pathname;
const agentMain = path.join(repoRoot, "agent/dist/main.js");
/** Preload that ends the agent when this test process is gone (see the server's test support). */
const dieWithParent = path.join(repoRoot, "server/test/support/die-with-parent.mjs");
const run = promisify(execFile);

/** A TCP port nobody listens on right now, for the control server's agent gateway. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** The env that makes the control server's agent gateway reachable on loopback at `port`. */
export function agentGatewayEnv(port: number): Record<string, string> {
  return {
    OCORE_AGENT_ADDR: `127.0.0.1:${port}`,
    OCORE_AGENT_PUBLIC_ADDR: `127.0.0.1:${port}`,
    OCORE_AGENT_HOSTNAMES: "127.0.0.1",
  };
}

export interface RunningAgent {
  stop(): Promise<void>;
}

/**
 * Enrolls the real agent (agent/dist, built by `npm run build`) with an enrollment token and runs
 * it on this host, sampling every `intervalSeconds`: real metrics of this machine.
 */
export async function startAgent(enrollment: {
  gatewayAddress: string;
  token: string;
  intervalSeconds: number;
  /** More of the agent's settings (e.g. OCORE_AGENT_CHECK_INTERVAL_SECONDS). */
  env?: Record<string, string>;
}): Promise<RunningAgent> {
  const env = {
    ...enrollment.env,
    PATH: process.env.PATH ?? "",
    NODE_ENV: "production" as const,
    OCORE_AGENT_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), "ocore-web-e2e-agent-")),
    OCORE_AGENT_METRICS_INTERVAL_SECONDS: String(enrollment.intervalSeconds),
  };
  await run(
    process.execPath,
    [agentMain, "enroll", "--server", enrollment.gatewayAddress, "--token", enrollment.token],
    {
      env,
    },
  );
  const child: ChildProcess = spawn(process.execPath, ["--import", dieWithParent, agentMain, "run"], {
    env,
    stdio: "ignore",
  });
  return {
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}
