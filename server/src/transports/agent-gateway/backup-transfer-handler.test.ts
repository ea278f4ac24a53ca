import { createHash, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  BackupTransferService,
  DownloadRequestSchema,
  type DownloadResponse,
  type UploadRequest,
  UploadRequestSchema,
  type UploadResponse,
} from "@ocore/proto/gen/ocore/agent/v1/backup_transfer_service_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  enroll,
  newAgentKey,
  silentLogger,
  startTestGateway,
  type TestGateway,
} from "../../../test/support/agent-channel.js";
import { backupStorageKey, createDirectoryBackupStore } from "../../domain/backups/backup-store.js";
import { armDownloadTicket } from "../../domain/backups/backup-transfer.js";
import { createTicket } from "../../domain/backups/transfer-tickets.js";
import { backups, instances } from "../../platform/db/schema/instances.js";
import { createBackupTransferHandlers } from "./backup-transfer-handler.js";
import { createGatewayCredentials } from "./gateway-credentials.js";

/** BackupTransferService over real mutual TLS, the agent identified by its enrolled certificate. */
describe("backup transfer over the agent gateway's mTLS", () => {
  let t: TestGateway;
  let server: grpc.Server;
  let port: number;
  let storeDir: string;
  const agents: Record<"a" | "b", { serverId: string; certPem: string; keyPem: string }> = {} as never;
  const definition = createGrpcServiceDefinition(BackupTransferService);
  const Client = grpc.makeGenericClientConstructor(definition, "BackupTransfer");

  const clientOf = (agent?: { certPem: string; keyPem: string }) =>
    new Client(
      `localhost:${port}`,
      agent
        ? grpc.credentials.createSsl(
            Buffer.from(t.pki.caCertificatePem),
            Buffer.from(agent.keyPem),
            Buffer.from(agent.certPem),
          )
        : grpc.credentials.createSsl(Buffer.from(t.pki.caCertificatePem)),
      { "grpc.use_local_subchannel_pool": 1 },
    );

  const upload = (
    agent: { certPem: string; keyPem: string } | undefined,
    header: { backupId: string; ticket: string },
    parts: Buffer[],
  ) => {
    const client = clientOf(agent);
    return new Promise<UploadResponse>((resolve, reject) => {
      const call = client.makeClientStreamRequest(
        definition.upload.path,
        definition.upload.requestSerialize,
        definition.upload.responseDeserialize,
        (error: grpc.ServiceError | null, response?: UploadResponse) =>
          error || !response ? reject(error) : resolve(response),
      ) as grpc.ClientWritableStream<UploadRequest>;
      call.write(create(UploadRequestSchema, { part: { case: "header", value: header } }));
      for (const part of parts)
        call.write(create(UploadRequestSchema, { part: { case: "chunk", value: part } }));
      call.end();
    }).finally(() => client.close());
  };

  const download = async (
    agent: { certPem: string; keyPem: string },
    header: { backupId: string; ticket: string },
  ) => {
    const client = clientOf(agent);
    try {
      const call = client.makeServerStreamRequest(
        definition.download.path,
        definition.download.requestSerialize,
        definition.download.responseDeserialize,
        create(DownloadRequestSchema, { header }),
      ) as grpc.ClientReadableStream<DownloadResponse>;
      const parts: Buffer[] = [];
      for await (const message of call as AsyncIterable<DownloadResponse>)
        parts.push(Buffer.from(message.chunk));
      return Buffer.concat(parts);
    } finally {
      client.close();
    }
  };

  /** A pending backup of an instance on agent a's server, with its one-time ticket. */
  const pendingBackup = async () => {
    const [instance] = await t.database.db
      .insert(instances)
      .values({
        serverId: agents.a.serverId,
        name: `i-${randomUUID().slice(0, 8)}`,
        odooImage: "o",
        postgresImage: "p",
        mailpitImage: "m",
        basePort: 10_000,
      })
      .returning();
    const id = randomUUID();
    const { ticket, hash } = createTicket();
    await t.database.db.insert(backups).values({
      id,
      instanceId: instance?.id,
      instanceName: instance?.name ?? "",
      serverId: agents.a.serverId,
      kind: "manual",
      storageKey: backupStorageKey(agents.a.serverId, id),
      ticketHash: hash,
    });
    return { id, ticket };
  };

  beforeAll(async () => {
    t = await startTestGateway("pglite");
    for (const name of ["a", "b"] as const) {
      const serverId = await t.addServer();
      const key = await newAgentKey();
      const response = await enroll(t.port, t.pki.caCertificatePem, {
        token: await t.token(serverId),
        csrPem: key.csrPem,
      });
      agents[name] = { serverId, certPem: response.certificatePem, keyPem: key.keyPem };
    }
    storeDir = await mkdtemp(path.join(os.tmpdir(), "ocore-transfer-"));
    server = new grpc.Server();
    server.addService(
      definition,
      createBackupTransferHandlers({
        db: t.database.db,
        pki: t.pki,
        store: createDirectoryBackupStore(storeDir),
        logger: silentLogger,
        now: t.clock.now,
      }),
    );
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", createGatewayCredentials(t.pki), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
  }, 60_000);

  afterAll(async () => {
    server?.forceShutdown();
    await t?.close();
    await rm(storeDir, { recursive: true, force: true });
  });

  it("stores an upload with its checksum, once, and only from the backup's own server", async () => {
    const { id, ticket } = await pendingBackup();
    const parts = [Buffer.alloc(3 * 1024 * 1024, 1), Buffer.from("tail")];
    const whole = Buffer.concat(parts);
    await expect(upload(agents.b, { backupId: id, ticket }, parts)).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
    const stored = await upload(agents.a, { backupId: id, ticket }, parts);
    expect(stored.sha256).toBe(createHash("sha256").update(whole).digest("hex"));
    expect(Number(stored.sizeBytes)).toBe(whole.length);
    const [row] = await t.database.db.select().from(backups).where(eq(backups.id, id));
    expect(row).toMatchObject({ state: "completed", sha256: stored.sha256, ticketHash: null });
    expect((await readFile(path.join(storeDir, row?.storageKey ?? ""))).equals(whole)).toBe(true);
    await expect(upload(agents.a, { backupId: id, ticket }, parts)).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
  });

  it("serves a completed backup once per armed ticket", async () => {
    const { id, ticket } = await pendingBackup();
    await upload(agents.a, { backupId: id, ticket }, [Buffer.from("dump and filestore")]);
    const armed = createTicket();
    await armDownloadTicket(t.database.db, id, armed.hash);
    const first = await download(agents.a, { backupId: id, ticket: armed.ticket });
    expect(first.toString()).toBe("dump and filestore");
    await expect(download(agents.a, { backupId: id, ticket: armed.ticket })).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
  });

  it("refuses a caller without a client certificate", async () => {
    const { id, ticket } = await pendingBackup();
    await expect(upload(undefined, { backupId: id, ticket }, [Buffer.from("x")])).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
  });
});
