// Resident memory and CPU of the real agent at the default 10 s interval, over BENCH_MINUTES
// (default 10): the built server on its embedded database, a real enrollment, then `ocore-agent run`
// sampled from /proc every 5 s. Run with `npm run bench:agent`. It measures the single executable
// (agent/dist-sea/ocore-agent, built by `npm run build:agent`) when present; BENCH_AGENT=node
// measures `node agent/dist/main.js` instead, BENCH_AGENT_EXECUTABLE another build (e.g. with other
// --exec-argv); BENCH_AGENT_NODE_OPTIONS adds Node flags through NODE_OPTIONS.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { EnrollmentTokenService } from "@ocore/proto/gen/ocore/api/v1/enrollment_token_service_pb.js";
import { DataFormat, ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { freePort } from "../server/test/support/free-port.ts";
import { cpuSeconds, rssBytes } from "./agent-fleet/proc-stats.ts";
import { firstAdminPassword } from "./first-admin-password.ts";

const root = new URL("..", import.meta.url).pathname;
const minutes = Number(process.env.BENCH_MINUTES ?? 10);
const run = promisify(execFile);

async function startServer(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(root, "server/dist/main.js")], {
    env: { PATH: process.env.PATH, OCORE_CONSOLE: "off", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /is running: open (\S+)/.exec(stderr)?.[1];
      if (found) resolve(found);
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return { child, url, stderr };
}

const agentPort = await freePort();
const serverDataDir = mkdtempSync(path.join(os.tmpdir(), "ocore-bench-agent-server-"));
const server = await startServer({
  OCORE_DATA_DIR: serverDataDir,
  OCORE_HTTP_ADDR: "127.0.0.1:0",
  OCORE_AGENT_ADDR: `127.0.0.1:${agentPort}`,
  OCORE_SSH_LISTEN_ADDR: "127.0.0.1:0",
  OCORE_AGENT_PUBLIC_ADDR: `127.0.0.1:${agentPort}`,
  OCORE_AGENT_HOSTNAMES: "127.0.0.1",
});
let agent: ChildProcess | undefined;
try {
  const transport = createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" });
  const oneTime = firstAdminPassword(serverDataDir);
  const first = await createClient(AuthService, transport).login({ username: "admin", password: oneTime });
  const password = `bench ${Math.random().toString(36)} passphrase`;
  const changed = await createClient(AuthService, transport).changePassword(
    { currentPassword: oneTime, newPassword: password },
    { headers: { authorization: `Bearer ${first.tokens?.accessToken}` } },
  );
  const headers = { authorization: `Bearer ${changed.tokens?.accessToken}` };
  const data = new TextEncoder().encode(JSON.stringify([{ name: "bench-host", host: "127.0.0.1" }]));
  await createClient(ServerService, transport).importServers({ format: DataFormat.JSON, data }, { headers });
  const serverId =
    (await createClient(ServerService, transport).listServers({}, { headers })).servers[0]?.id ?? "";
  const enrollment = await createClient(EnrollmentTokenService, transport).createEnrollmentToken(
    { serverId },
    { headers },
  );
  const agentEnv = {
    PATH: process.env.PATH ?? "",
    OCORE_AGENT_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), "ocore-bench-agent-")),
  };
  const executable = process.env.BENCH_AGENT_EXECUTABLE ?? path.join(root, "agent/dist-sea/ocore-agent");
  const useExecutable = process.env.BENCH_AGENT !== "node" && existsSync(executable);
  const agentCommand = useExecutable
    ? { file: executable, args: [] }
    : { file: process.execPath, args: [path.join(root, "agent/dist/main.js")] };
  await run(
    agentCommand.file,
    [...agentCommand.args, "enroll", "--server", enrollment.gatewayAddress, "--token", enrollment.token],
    { env: agentEnv },
  );
  const nodeOptions = process.env.BENCH_AGENT_NODE_OPTIONS;
  agent = spawn(agentCommand.file, [...agentCommand.args, "run"], {
    env: nodeOptions ? { ...agentEnv, NODE_OPTIONS: nodeOptions } : agentEnv,
    stdio: "ignore",
  });
  const pid = agent.pid ?? 0;
  await new Promise((resolve) => setTimeout(resolve, 15_000)); // warm up: connect, first samples
  const startCpu = cpuSeconds(pid);
  const started = performance.now();
  const rss: number[] = [];
  while (performance.now() - started < minutes * 60_000) {
    rss.push(rssBytes(pid) / 1024 / 1024);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
  }
  const wallSeconds = (performance.now() - started) / 1000;
  // Where the resident memory is at the end: anonymous (V8 heap, malloc) vs pages of files (the
  // executable, shared libraries).
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const rollupMb = (field: string) =>
    Number((Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(rollup)?.[1] ?? 0) / 1024).toFixed(1));
  const sorted = [...rss].sort((a, b) => a - b);
  const result = {
    agent: useExecutable ? "executable" : "node dist/main.js",
    nodeOptions: nodeOptions ?? "",
    minutes,
    intervalSeconds: 10,
    rssMbMedian: Number((sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(1)),
    rssMbPeak: Number((sorted.at(-1) ?? 0).toFixed(1)),
    cpuPercentOfOneCore: Number((((cpuSeconds(pid) - startCpu) / wallSeconds) * 100).toFixed(2)),
    endRssMb: {
      anonymous: rollupMb("Anonymous"),
      files: Number((rollupMb("Rss") - rollupMb("Anonymous")).toFixed(1)),
    },
  };
  console.log(
    `${result.agent}${nodeOptions ? ` (${nodeOptions})` : ""} over ${minutes} min at 10 s: RSS median ${result.rssMbMedian} MB, peak ${result.rssMbPeak} MB (at the end ${result.endRssMb.anonymous} MB anonymous, ${result.endRssMb.files} MB of files); CPU ${result.cpuPercentOfOneCore} % of one core`,
  );
  mkdirSync(path.join(root, "bench/results"), { recursive: true });
  writeFileSync(
    path.join(root, "bench/results/agent-footprint.json"),
    `${JSON.stringify({ at: new Date().toISOString(), node: process.version, ...result }, null, 2)}\n`,
  );
} finally {
  agent?.kill("SIGTERM");
  server.child.kill("SIGTERM");
}
