import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { DatabaseKind, SystemService } from "@ocore/proto/gen/ocore/api/v1/system_service_pb.js";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import {
  type ServerProcess,
  spawnServer,
  startServerProcess,
  tempDataDir,
} from "../support/server-process.js";
import { createPostgresDatabase, dropPostgresDatabase } from "../support/test-databases.js";

describe("the built server process", () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it("serves GetInfo over Connect, gRPC and gRPC-Web on the embedded database", async () => {
    server = await startServerProcess();
    const { url } = server;
    const transports = {
      connect: createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
      grpc: createGrpcTransport({ baseUrl: url }),
      grpcWeb: createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }),
    };
    const answers = await Promise.all(
      Object.values(transports).map((transport) => createClient(SystemService, transport).getInfo({})),
    );
    for (const info of answers) {
      expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(info.databaseKind).toBe(DatabaseKind.PGLITE);
      expect(info.databaseVersion).toMatch(/^PostgreSQL \d+/);
      expect(info.nodeVersion).toMatch(/^v22\./);
      expect(info.installationId).toBe(answers[0]?.installationId);
      expect(
        Number(info.uptime?.seconds ?? 0n) * 1e3 + (info.uptime?.nanos ?? 0) / 1e6,
      ).toBeGreaterThanOrEqual(0);
    }

    expect(await (await fetch(`${url}/healthz`)).text()).toBe("ok\n");
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await fetch(`${url}/no/such/page`)).status).toBe(404);
  });

  it("keeps its installation across restarts and releases its data directory when stopped", async () => {
    server = await startServerProcess();
    const { url, dataDir } = server;
    const first = await createClient(
      SystemService,
      createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
    ).getInfo({});
    expect(existsSync(path.join(dataDir, "server.lock"))).toBe(true);
    expect(await server.stop()).toBe(0);
    expect(existsSync(path.join(dataDir, "server.lock"))).toBe(false);

    server = await startServerProcess({ OCORE_DATA_DIR: dataDir });
    const again = await createClient(
      SystemService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    ).getInfo({});
    expect(again.installationId).toBe(first.installationId);
  });

  it("runs on PostgreSQL when DATABASE_URL is set", async () => {
    const databaseUrl = await createPostgresDatabase();
    try {
      server = await startServerProcess({ DATABASE_URL: databaseUrl });
      const info = await createClient(
        SystemService,
        createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
      ).getInfo({});
      expect(info.databaseKind).toBe(DatabaseKind.POSTGRES);
      expect(info.databaseVersion).toMatch(/^PostgreSQL \d+/);
      await server.stop();
      server = undefined;
    } finally {
      await dropPostgresDatabase(databaseUrl);
    }
  });
});

/** CPU time (user + system) the process has used so far, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  // utime and stime are fields 14 and 15 of /proc/PID/stat, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const answers = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
    (response) => response.ok,
    () => false,
  );

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/** Whether the process still runs (a zombie not yet reaped by whoever adopted it does not). */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
};

describe("a server whose stdout and stderr readers are gone", () => {
  it("keeps answering without spinning, and SIGTERM stops it within its bound with both ports closed", async () => {
    const [httpPort, agentPort] = [await freePort(), await freePort()];
    const child = spawnServer({
      OCORE_DATA_DIR: tempDataDir(),
      OCORE_HTTP_ADDR: `127.0.0.1:${httpPort}`,
      OCORE_AGENT_ADDR: `127.0.0.1:${agentPort}`,
    });
    // Like `| head -c 100` or a supervisor that died: nobody reads what the server writes.
    child.stdout?.destroy();
    child.stderr?.destroy();
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const pid = child.pid ?? 0;
    try {
      const healthz = `http://127.0.0.1:${httpPort}/healthz`;
      await waitFor("/healthz", async () => (await answers(healthz)) || !alive(pid), 120_000);
      expect(alive(pid)).toBe(true);
      // The banner on stderr is written once the HTTP port listens: give it a moment to fail.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const before = cpuSeconds(pid);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(cpuSeconds(pid) - before).toBeLessThan(0.5);
      expect(await answers(healthz)).toBe(true);

      const stopAsked = Date.now();
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(Date.now() - stopAsked).toBeLessThan(15_000);
      expect(await listening(httpPort)).toBe(false);
      expect(await listening(agentPort)).toBe(false);
    } finally {
      child.kill("SIGKILL");
    }
  }, 180_000);

  it("a server a suite started exits when the suite's process is killed", async () => {
    // A parent that starts the server the way the suites do, then dies without cleaning up.
    const supportModule = new URL("../support/server-process.ts", import.meta.url).href;
    const parent = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { startServerProcess } = await import(${JSON.stringify(supportModule)});
         const server = await startServerProcess();
         process.stdout.write(JSON.stringify({ pid: server.child.pid, url: server.url }) + "\\n");
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    parent.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    parent.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    let server: { pid: number; url: string } | undefined;
    try {
      await waitFor("the parent to start a server", () => output.includes("}\n"), 120_000).catch(
        (error: Error) => {
          throw new Error(`${error.message}; it wrote:\n${output}`);
        },
      );
      server = JSON.parse(output.slice(0, output.indexOf("}\n") + 1)) as { pid: number; url: string };
      expect(await answers(`${server.url}/healthz`)).toBe(true);
      parent.kill("SIGKILL");
      const serverPid = server.pid;
      await waitFor("the orphaned server to exit", () => !alive(serverPid), 20_000);
    } finally {
      parent.kill("SIGKILL");
      if (server && alive(server.pid)) process.kill(server.pid, "SIGKILL");
    }
  }, 180_000);
});
