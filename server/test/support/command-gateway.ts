import { create, toBinary } from "@bufbuild/protobuf";
import { type Any, StringValueSchema } from "@bufbuild/protobuf/wkt";
import type {
  CancelCommand,
  Command,
  ConnectResponse,
  Welcome,
} from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import { createEnrollmentToken } from "../../src/domain/agent-identity/create-enrollment-token.js";
import type { CommandService } from "../../src/domain/commands/command-service.js";
import { createCommandRunner } from "../../src/domain/commands/create-command-runner.js";
import { createMetricWriter } from "../../src/domain/metrics/metric-writer.js";
import type { DatabaseKind } from "../../src/platform/db/database.js";
import { servers } from "../../src/platform/db/schema/servers.js";
import { ensureAgentPki } from "../../src/platform/pki/agent-pki.js";
import { createMasterKeyring } from "../../src/platform/pki/master-key.js";
import { createAgentGateway } from "../../src/startup/create-agent-gateway.js";
import { SessionRegistry } from "../../src/transports/agent-gateway/session-registry.js";
import {
  type AgentPeer,
  connect,
  enroll,
  newAgentKey,
  silentLogger,
  TEST_MASTER_KEY,
} from "./agent-channel.js";
import { createTestClock } from "./test-clock.js";
import { createTestDatabase, type TestDatabase } from "./test-databases.js";

/**
 * The real gateway (mTLS on loopback) wired to a real command runner, on a fresh database — or,
 * as another replica, on a given one (which close() then leaves open).
 */
export async function startCommandGateway(
  kind: DatabaseKind,
  options: {
    journal?: { maxBufferedBytes?: number; maxBatchBytes?: number; copyFromBytes?: number };
    database?: TestDatabase;
    /** Wall-clock time with the gateway's presence sweeps and the runner's timeouts running (fault tests). */
    realTime?: boolean;
    metricsIntervalSeconds?: number;
  } = {},
) {
  const database = options.database ?? (await createTestDatabase(kind));
  const testClock = createTestClock();
  const clock = options.realTime ? { now: () => new Date(), advance: testClock.advance } : testClock;
  const pki = await ensureAgentPki(database.db, {
    keyring: createMasterKeyring(TEST_MASTER_KEY),
    hostnames: ["localhost", "127.0.0.1"],
    installationId: "00000000-test",
    logger: silentLogger,
  });
  const registry = new SessionRegistry();
  const runner: CommandService = createCommandRunner({
    db: database.db,
    links: registry,
    logger: silentLogger,
    now: clock.now,
    sweepEveryMs: options.realTime ? 1_000 : 0,
    pollEveryMs: 200,
    journal: options.journal,
  });
  const writer = createMetricWriter(database.db, { logger: silentLogger, now: clock.now });
  const gateway = createAgentGateway({
    db: database.db,
    pki,
    writer,
    logger: silentLogger,
    version: "0.0.0-test",
    metricsIntervalSeconds: options.metricsIntervalSeconds ?? 10,
    certificateDays: 7,
    now: clock.now,
    timing: options.realTime ? {} : { sweepEveryMs: 0 },
    registry,
    commands: runner.sink,
  });
  const port = await gateway.listen("127.0.0.1", 0);
  return {
    database,
    clock,
    runner,
    gateway,
    port,
    /** A new server and a token a real agent enrolls with (`ocore-agent enroll`). */
    async serverWithToken() {
      const [row] = await database.db
        .insert(servers)
        .values({ name: `host-${Math.random().toString(36).slice(2, 10)}` })
        .returning({ id: servers.id });
      const serverId = (row as { id: string }).id;
      const { token } = await createEnrollmentToken(database.db, {
        serverId,
        caPin: pki.caPin,
        now: clock.now(),
      });
      return { serverId, token };
    },
    /** A new server with an enrolled agent identity. */
    async enrolledServer() {
      const [row] = await database.db
        .insert(servers)
        .values({ name: `host-${Math.random().toString(36).slice(2, 10)}` })
        .returning({ id: servers.id });
      const serverId = (row as { id: string }).id;
      const { token } = await createEnrollmentToken(database.db, {
        serverId,
        caPin: pki.caPin,
        now: clock.now(),
      });
      const key = await newAgentKey();
      const response = await enroll(port, pki.caCertificatePem, { token, csrPem: key.csrPem });
      return { serverId, certPem: response.certificatePem, keyPem: key.keyPem };
    },
    /** Opens an agent stream and waits for Welcome. */
    async agent(identity: { certPem: string; keyPem: string }): Promise<AgentPeer & { welcome: Welcome }> {
      const peer = connect(port, pki.caCertificatePem, identity);
      peer.send({ case: "hello", value: { agentVersion: "1.0.0", hostname: "h" } });
      const welcome = await peer.next();
      if (welcome.payload.case !== "welcome")
        throw new Error(`expected Welcome, got ${welcome.payload.case}`);
      return Object.assign(peer, { welcome: welcome.payload.value });
    },
    async close() {
      await gateway.close();
      await runner.close();
      await writer.close();
      if (!options.database) await database.close();
    },
  };
}

/** The next message of one kind on a stream, skipping others (pings). */
async function nextPayload(peer: AgentPeer, kind: ConnectResponse["payload"]["case"]) {
  for (;;) {
    const message = await peer.next();
    if (message.payload.case === kind) return message.payload;
  }
}

export async function nextCommand(peer: AgentPeer): Promise<Command> {
  return ((await nextPayload(peer, "command")) as { value: Command }).value;
}

export async function nextCancel(peer: AgentPeer): Promise<CancelCommand> {
  return ((await nextPayload(peer, "cancelCommand")) as { value: CancelCommand }).value;
}

export const stringResult = (value: string): Any => ({
  $typeName: "google.protobuf.Any",
  typeUrl: `type.googleapis.com/${StringValueSchema.typeName}`,
  value: toBinary(StringValueSchema, create(StringValueSchema, { value })),
});
