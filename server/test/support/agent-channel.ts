import { webcrypto } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  AgentService,
  type ConnectRequest,
  ConnectRequestSchema,
  type ConnectResponse,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import {
  EnrollmentService,
  EnrollRequestSchema,
  type EnrollResponse,
} from "@ocore/proto/gen/ocore/agent/v1/enrollment_service_pb.js";
import type { HostSampleSchema } from "@ocore/proto/gen/ocore/agent/v1/metrics_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import { pino } from "pino";
import { createEnrollmentToken } from "../../src/domain/agent-identity/create-enrollment-token.js";
import { createMetricWriter, type MetricWriter } from "../../src/domain/metrics/metric-writer.js";
import type { DatabaseKind } from "../../src/platform/db/database.js";
import { servers } from "../../src/platform/db/schema/servers.js";
import { type AgentPki, ensureAgentPki } from "../../src/platform/pki/agent-pki.js";
import { createMasterKeyring } from "../../src/platform/pki/master-key.js";
import { x509 } from "../../src/platform/pki/x509.js";
import {
  type AgentGateway,
  createAgentGateway,
  type GatewayTiming,
} from "../../src/startup/create-agent-gateway.js";
import { createTestClock, type TestClock } from "./test-clock.js";
import { createTestDatabase, type TestDatabase } from "./test-databases.js";

export const silentLogger = pino({ level: "silent" });
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString("base64");

export interface TestGateway {
  readonly database: TestDatabase;
  readonly pki: AgentPki;
  readonly gateway: AgentGateway;
  readonly writer: MetricWriter;
  readonly port: number;
  readonly clock: TestClock;
  addServer(name?: string): Promise<string>;
  token(serverId: string, ttlMs?: number): Promise<string>;
  close(): Promise<void>;
}

/** A database, the PKI and a gateway on a loopback port with real TLS; sweeps only when asked. */
export async function startTestGateway(
  kind: DatabaseKind,
  timing: Partial<GatewayTiming> = {},
): Promise<TestGateway> {
  const database = await createTestDatabase(kind);
  const clock = createTestClock();
  const pki = await ensureAgentPki(database.db, {
    keyring: createMasterKeyring(TEST_MASTER_KEY),
    hostnames: ["localhost", "127.0.0.1"],
    installationId: "00000000-test",
    logger: silentLogger,
  });
  const writer = createMetricWriter(database.db, { logger: silentLogger, now: clock.now });
  const gateway = createAgentGateway({
    db: database.db,
    pki,
    writer,
    logger: silentLogger,
    version: "0.0.0-test",
    metricsIntervalSeconds: 10,
    certificateDays: 7,
    now: clock.now,
    timing: { sweepEveryMs: 0, ...timing },
  });
  const port = await gateway.listen("127.0.0.1", 0);
  let counter = 0;
  return {
    database,
    pki,
    gateway,
    writer,
    port,
    clock,
    async addServer(name) {
      counter += 1;
      const [row] = await database.db
        .insert(servers)
        .values({ name: name ?? `host-${counter}-${Math.random().toString(36).slice(2, 8)}` })
        .returning({ id: servers.id });
      return (row as { id: string }).id;
    },
    async token(serverId, ttlMs) {
      return (
        await createEnrollmentToken(database.db, { serverId, caPin: pki.caPin, ttlMs, now: clock.now() })
      ).token;
    },
    async close() {
      await gateway.close();
      await writer.close();
      await database.close();
    },
  };
}

/** A key pair and a CSR as the agent makes them (ECDSA P-256). */
export async function newAgentKey(subject = "CN=agent") {
  const keys = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { keys, csrPem: csr.toString("pem"), keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") };
}

const clientOptions = { "grpc.use_local_subchannel_pool": 1 };

export async function enroll(
  port: number,
  caPem: string,
  request: { token: string; csrPem: string },
): Promise<EnrollResponse> {
  const Client = grpc.makeGenericClientConstructor(
    createGrpcServiceDefinition(EnrollmentService),
    "Enrollment",
  );
  const client = new Client(
    `127.0.0.1:${port}`,
    grpc.credentials.createSsl(Buffer.from(caPem)),
    clientOptions,
  );
  try {
    return await new Promise<EnrollResponse>((resolve, reject) =>
      (
        client as unknown as {
          enroll: (
            request: unknown,
            callback: (error: grpc.ServiceError | null, response: EnrollResponse) => void,
          ) => void;
        }
      ).enroll(
        create(EnrollRequestSchema, { ...request, hostname: "test-host", agentVersion: "0.0.0" }),
        (error: grpc.ServiceError | null, response: EnrollResponse) =>
          error ? reject(error) : resolve(response),
      ),
    );
  } finally {
    client.close();
  }
}

/** The agent side of one stream, written with grpc-js directly. */
export interface AgentPeer {
  send(payload: MessageInitShape<typeof ConnectRequestSchema>["payload"]): void;
  /** The next message from the server (rejects when the stream ends first). */
  next(): Promise<ConnectResponse>;
  /** How the stream ended. */
  readonly ended: Promise<{ code: grpc.status; details: string }>;
  close(): void;
}

export function connect(
  port: number,
  caPem: string,
  identity?: { certPem: string; keyPem: string },
): AgentPeer {
  const Client = grpc.makeGenericClientConstructor(createGrpcServiceDefinition(AgentService), "Agent");
  const credentials = identity
    ? grpc.credentials.createSsl(
        Buffer.from(caPem),
        Buffer.from(identity.keyPem),
        Buffer.from(identity.certPem),
      )
    : grpc.credentials.createSsl(Buffer.from(caPem));
  const client = new Client(`127.0.0.1:${port}`, credentials, clientOptions);
  const call = (
    client as unknown as { connect(): grpc.ClientDuplexStream<ConnectRequest, ConnectResponse> }
  ).connect();
  const inbox: ConnectResponse[] = [];
  const waiters: Array<{ resolve: (m: ConnectResponse) => void; reject: (e: Error) => void }> = [];
  let endedWith: { code: grpc.status; details: string } | undefined;
  const ended = new Promise<{ code: grpc.status; details: string }>((resolve) => {
    call.on("status", (status: grpc.StatusObject) => {
      endedWith = { code: status.code, details: status.details };
      for (const waiter of waiters.splice(0))
        waiter.reject(new Error(`stream ended: ${status.code} ${status.details}`));
      resolve(endedWith);
      client.close();
    });
  });
  call.on("error", () => {});
  call.on("data", (message: ConnectResponse) => {
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(message);
    else inbox.push(message);
  });
  return {
    send: (payload) => call.write(create(ConnectRequestSchema, { payload })),
    next: () => {
      const queued = inbox.shift();
      if (queued) return Promise.resolve(queued);
      if (endedWith) return Promise.reject(new Error(`stream ended: ${endedWith.code} ${endedWith.details}`));
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    ended,
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

/** A plausible host sample with the given sequence. */
export function hostSample(
  sequence: number,
  collectedAt = new Date(),
): MessageInitShape<typeof HostSampleSchema> {
  return {
    sequence: BigInt(sequence),
    collectedAt: timestampFromDate(collectedAt),
    cpu: { usagePercent: 12.5, perCorePercent: [10, 15], load1: 0.5, load5: 0.4, load15: 0.3, cores: 2 },
    memory: {
      totalBytes: 8n << 30n,
      usedBytes: 2n << 30n,
      availableBytes: 6n << 30n,
      activeBytes: 1n << 30n,
      swapTotalBytes: 0n,
      swapUsedBytes: 0n,
    },
    filesystems: [
      {
        mount: "/",
        device: "/dev/vda1",
        fsType: "ext4",
        totalBytes: 100n << 30n,
        usedBytes: 40n << 30n,
        availableBytes: 60n << 30n,
      },
    ],
    blockDevices: [
      {
        device: "vda",
        readBytesPerSecond: 1000,
        writeBytesPerSecond: 2000,
        readsPerSecond: 1,
        writesPerSecond: 2,
      },
    ],
    networkInterfaces: [{ name: "eth0", rxBytesPerSecond: 500, txBytesPerSecond: 700 }],
    tcpConnections: 12,
    docker: {
      running: 3,
      paused: 0,
      stopped: 1,
      restarting: 0,
      containers: [
        {
          id: "abc",
          name: "odoo",
          state: "running",
          cpuPercent: 5,
          memoryBytes: 1n << 28n,
          memoryLimitBytes: 0n,
        },
      ],
    },
  };
}
