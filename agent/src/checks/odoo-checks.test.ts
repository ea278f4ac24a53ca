import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaptureLogger } from "../test/capture-logger.js";
import { connectTestDocker, TEST_DOCKER_SOCKET } from "../test/docker-test-image.js";
import { ensureInstanceTestImages, type InstanceTestImages } from "../test/instance-test-images.js";
import type { CheckResult } from "./check-result.js";
import { createHostChecks, type HostChecksInit } from "./host-checks.js";
import { checkOdooInstances, parseMajor, webHealthPath } from "./odoo-checks.js";
import { probeHttp } from "./odoo-probes.js";

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );

describe("HTTP probes of an instance's ports", () => {
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    if (request.url === "/silent") return; // accepts, never answers
    response.writeHead(request.url === "/web/health" ? 200 : 404, { "content-type": "application/json" });
    response.end('{"status": "pass"}');
  });
  server.on("connection", (socket) => sockets.add(socket));
  server.on("upgrade", (request, socket) => {
    if (request.headers.upgrade !== "websocket" || !request.headers["sec-websocket-key"])
      return socket.destroy();
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  });
  let port = 0;
  beforeAll(async () => {
    port = await listen(server);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("reads an HTTP answer, and a WebSocket upgrade as upgraded", async () => {
    const health = await probeHttp({ host: "127.0.0.1", port, path: "/web/health", timeoutMs: 2000 });
    expect(health).toMatchObject({ kind: "http", status: 200, body: '{"status": "pass"}' });
    const upgraded = await probeHttp(
      { host: "127.0.0.1", port, path: "/websocket", timeoutMs: 2000 },
      { upgrade: true },
    );
    expect(upgraded.kind).toBe("upgraded");
  });

  it("is bounded by its timeout when the port accepts but never answers, and names a refused port", async () => {
    const started = Date.now();
    const silent = await probeHttp({ host: "127.0.0.1", port, path: "/silent", timeoutMs: 300 });
    expect(silent).toMatchObject({ kind: "failed", error: "no answer within 300 ms" });
    expect(Date.now() - started).toBeLessThan(2000);
    const closed = createServer();
    const closedPort = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const refused = await probeHttp({ host: "127.0.0.1", port: closedPort, path: "/", timeoutMs: 2000 });
    expect(refused).toMatchObject({ kind: "failed", error: "connection refused (nothing listens)" });
  });

  it("knows which path each Odoo version has", () => {
    expect([
      parseMajor("17.0"),
      parseMajor("saas-17.2"),
      parseMajor("latest"),
      parseMajor(undefined),
    ]).toEqual([17, 17, undefined, undefined]);
    expect([webHealthPath(18), webHealthPath(16), webHealthPath(14), webHealthPath(undefined)]).toEqual([
      "/web/health?db_server_status=1",
      "/web/health",
      "/web/login",
      "/web/health?db_server_status=1",
    ]);
  });
});

/**
 * Real containers from the instance stand-in images (busybox httpd on 8069 and 8072, labelled as
 * create-instance labels them, ports published on loopback), checked by the agent's code.
 */
describe("Odoo instance checks on Docker", () => {
  const prefix = `ocore-h16-oc${process.pid % 10_000}`;
  let docker: Docker;
  let images: InstanceTestImages;

  async function createInstance(
    suffix: string,
    odooVersion: string,
  ): Promise<Record<string, Docker.Container>> {
    const name = `${prefix}${suffix}`;
    const instanceId = `00000000-0000-4000-8000-${String(process.pid).padStart(8, "0")}${suffix.padStart(4, "0")}`;
    const make = async (
      role: "db" | "mail" | "odoo",
      image: string,
      extra: Docker.ContainerCreateOptions,
    ) => {
      const container = await docker.createContainer({
        name: `${name}-${role}`,
        Image: image,
        Labels: { "ocore.instance": instanceId, "ocore.role": role },
        ...extra,
      });
      await container.start();
      return container;
    };
    const loopback = [{ HostIp: "127.0.0.1", HostPort: "" }];
    return {
      db: await make("db", images.postgres, {}),
      mail: await make("mail", images.mailpit, {}),
      odoo: await make("odoo", images.odoo, {
        Env: [`ODOO_VERSION=${odooVersion}`],
        Cmd: [
          "/bin/sh",
          "-c",
          "mkdir -p /etc/odoo && touch /etc/odoo/odoo.conf && exec /bin/sh /standin/odoo.sh",
        ],
        ExposedPorts: { "8069/tcp": {}, "8072/tcp": {} },
        HostConfig: { PortBindings: { "8069/tcp": loopback, "8072/tcp": loopback } },
      }),
    };
  }

  async function exec(container: Docker.Container, command: string): Promise<void> {
    const run = await container.exec({
      Cmd: ["/bin/sh", "-c", command],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await run.start({});
    await new Promise((resolve) => {
      stream.on("end", resolve);
      stream.resume();
    });
  }

  async function checksOf(name: string): Promise<Record<string, CheckResult>> {
    const { results } = await checkOdooInstances(TEST_DOCKER_SOCKET, { timeoutMs: 2_000 });
    return Object.fromEntries(
      results.filter((result) => result.subject === name).map((result) => [result.key, result]),
    );
  }

  /** Waits until the stand-in's web server answers (it starts after the container does). */
  async function settled(name: string): Promise<Record<string, CheckResult>> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const checks = await checksOf(name);
      if (checks.odoo_web?.state === "ok" || Date.now() > deadline) return checks;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async function cleanup(): Promise<void> {
    const left = await docker.listContainers({ all: true, filters: { name: [prefix] } });
    await Promise.all(
      left.map((container) => docker.getContainer(container.Id).remove({ force: true, v: true })),
    );
  }

  beforeAll(async () => {
    docker = await connectTestDocker();
    images = await ensureInstanceTestImages();
    await cleanup();
  }, 120_000);
  afterAll(async () => {
    if (docker) await cleanup();
  });

  it("Odoo 15: health, longpolling and containers pass; a failing health endpoint and stopped containers are named", async () => {
    const containers = await createInstance("a", "15.0");
    const name = `${prefix.slice("ocore-".length)}a`;
    const healthy = await settled(name);
    expect(healthy.odoo_containers).toMatchObject({ state: "ok", value: 3 });
    expect(healthy.odoo_web).toMatchObject({ state: "ok" });
    expect(healthy.odoo_web?.message).toMatch(/^\/web\/health on port \d+ passes in \d+ ms/);
    expect(healthy.odoo_realtime).toMatchObject({ state: "ok" });
    expect(healthy.odoo_realtime?.message).toMatch(/^longpolling \(HTTP\) on port \d+ answers/);

    const odoo = containers.odoo as Docker.Container;
    await exec(odoo, "rm /www/web/health");
    const failing = await checksOf(name);
    expect(failing.odoo_web).toMatchObject({ state: "critical" });
    expect(failing.odoo_web?.message).toMatch(/^\/web\/health on port \d+ fails: HTTP 404/);

    // Without workers nothing listens on the real-time port: the web port serves it.
    await exec(odoo, "kill $(ps | grep 'httpd -p 807[2]' | awk '{print $1}')");
    const noWorkers = await checksOf(name);
    expect(noWorkers.odoo_realtime).toMatchObject({ state: "ok" });
    expect(noWorkers.odoo_realtime?.message).toMatch(
      /is served by the web port \d+ .*Odoo runs without workers/,
    );

    await containers.mail?.stop({ t: 1 });
    expect((await checksOf(name)).odoo_containers).toMatchObject({ state: "warning", value: 2 });
    await odoo.stop({ t: 1 });
    const stopped = await checksOf(name);
    expect(stopped.odoo_containers).toMatchObject({ state: "critical", value: 1 });
    expect(stopped.odoo_containers?.message).toMatch(/mail Exited .*odoo Exited .*1 of 3 running/);
    expect(stopped.odoo_web).toMatchObject({
      state: "unknown",
      message: "not checked: the Odoo container is exited",
    });
  }, 90_000);

  it("Odoo 17: the database check is asked for, and a real-time port without a WebSocket upgrade is critical", async () => {
    await createInstance("b", "17.0");
    const checks = await settled(`${prefix.slice("ocore-".length)}b`);
    expect(checks.odoo_web?.message).toMatch(
      /^\/web\/health\?db_server_status=1 on port \d+ passes .*database reachable/,
    );
    expect(checks.odoo_realtime).toMatchObject({ state: "critical" });
    expect(checks.odoo_realtime?.message).toMatch(
      /^the WebSocket upgrade on \/websocket on port \d+ fails: HTTP 404/,
    );

    // Cron lag and mail queue: psql runs in the db container (the stand-in has none: unknown, said so).
    const withDatabase = await checkOdooInstances(TEST_DOCKER_SOCKET, {
      timeoutMs: 2_000,
      database: () => true,
    });
    const cron = withDatabase.results.find(
      (r) => r.key === "odoo_cron" && r.subject === `${prefix.slice(6)}b`,
    );
    expect(cron).toMatchObject({ state: "unknown" });
    expect(cron?.message).toMatch(/^psql in the db container failed \(exit 12[67]\): .*psql/);

    // The cycle sends them only to a server whose Welcome says it takes them.
    const hostChecks = createHostChecks({
      dockerSocket: TEST_DOCKER_SOCKET,
      logger: createCaptureLogger().logger,
      startCheckEveryMs: 0,
      instanceTimeoutMs: 2_000,
    });
    const sent = { older: [] as HostChecksInit[], newer: [] as HostChecksInit[] };
    hostChecks.attach({ write: (message) => sent.older.push(message) > 0 });
    await hostChecks.runOnce();
    hostChecks.attach({ write: (message) => sent.newer.push(message) > 0, instanceChecks: true });
    const keys = (message: HostChecksInit | undefined) =>
      (message?.results ?? []).map((result) => result.key);
    expect(keys(sent.older[0])).toContain("docker");
    expect(keys(sent.older[0]).filter((key) => key?.startsWith("odoo_"))).toEqual([]);
    // Attaching sends the newest cycle at once, this time with the instances' checks.
    expect(keys(sent.newer[0])).toEqual(
      expect.arrayContaining(["docker", "odoo_containers", "odoo_web", "odoo_realtime"]),
    );
  }, 60_000);
});
