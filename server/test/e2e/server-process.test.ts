import { existsSync } from "node:fs";
import path from "node:path";
import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { DatabaseKind, SystemService } from "@ocore/proto/gen/ocore/api/v1/system_service_pb.js";
import { afterEach, describe, expect, it } from "vitest";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";
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
