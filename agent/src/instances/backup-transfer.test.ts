import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  BackupTransferService,
  type DownloadRequest,
  type DownloadResponse,
  DownloadResponseSchema,
  type UploadRequest,
  type UploadResponse,
  UploadResponseSchema,
} from "@ocore/proto/gen/ocore/agent/v1/backup_transfer_service_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Identity } from "../identity/identity-store.js";
import { generateKeyAndCsr } from "../identity/key-pair.js";
import { createTestCa, issueServerCertificate, signClientCsr } from "../test/test-pki.js";
import { type BackupTransfer, createBackupTransferClient, TRANSFER_CHUNK_BYTES } from "./backup-transfer.js";

/**
 * The agent's BackupTransferService client against a grpc-js server with mutual TLS. The server
 * here keeps archives in memory and records what it saw; the real one (server/src/backups) is
 * tested on the server side.
 */
describe("backup transfer client over mutual TLS", () => {
  let server: grpc.Server;
  let client: BackupTransfer;
  const stored = new Map<string, Buffer>();
  const seen: {
    headers: Array<{ backupId: string; ticket: string }>;
    peerCertificate: boolean;
    largestChunk: number;
  } = {
    headers: [],
    peerCertificate: false,
    largestChunk: 0,
  };

  beforeAll(async () => {
    const ca = await createTestCa();
    const serverCertificate = await issueServerCertificate(ca);
    const agentKey = await generateKeyAndCsr("agent");
    const identity: Identity = {
      caPem: ca.certificatePem,
      keyPem: agentKey.keyPem,
      certificatePem: await signClientCsr(ca, agentKey.csrPem, {
        serverId: "00000000-0000-4000-8000-000000000001",
      }),
    };
    const upload: grpc.handleClientStreamingCall<UploadRequest, UploadResponse> = (call, callback) => {
      seen.peerCertificate = Boolean(call.getAuthContext()?.sslPeerCertificate);
      const parts: Buffer[] = [];
      let backupId = "";
      call.on("data", (message: UploadRequest) => {
        if (message.part.case === "header") {
          backupId = message.part.value.backupId;
          seen.headers.push({ backupId, ticket: message.part.value.ticket });
        } else if (message.part.case === "chunk") {
          seen.largestChunk = Math.max(seen.largestChunk, message.part.value.length);
          parts.push(Buffer.from(message.part.value));
        }
      });
      call.on("end", () => {
        const bytes = Buffer.concat(parts);
        stored.set(backupId, bytes);
        callback(
          null,
          create(UploadResponseSchema, {
            sizeBytes: BigInt(bytes.length),
            sha256: createHash("sha256").update(bytes).digest("hex"),
          }),
        );
      });
    };
    const download: grpc.handleServerStreamingCall<DownloadRequest, DownloadResponse> = (call) => {
      const bytes = stored.get(call.request.header?.backupId ?? "");
      if (!bytes || call.request.header?.ticket !== "download-ticket") {
        call.emit("error", { code: grpc.status.PERMISSION_DENIED, details: "not authorized" });
        return;
      }
      for (let offset = 0; offset < bytes.length; offset += 100_000) {
        call.write(create(DownloadResponseSchema, { chunk: bytes.subarray(offset, offset + 100_000) }));
      }
      call.end();
    };
    server = new grpc.Server();
    server.addService(createGrpcServiceDefinition(BackupTransferService), { upload, download });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        "127.0.0.1:0",
        grpc.ServerCredentials.createSsl(
          Buffer.from(ca.certificatePem),
          [
            {
              private_key: Buffer.from(serverCertificate.keyPem),
              cert_chain: Buffer.from(serverCertificate.certificatePem),
            },
          ],
          true,
        ),
        (error, bound) => (error ? reject(error) : resolve(bound)),
      ),
    );
    client = createBackupTransferClient({
      address: { host: "localhost", port, text: `localhost:${port}` },
      identity: async () => identity,
    });
  });

  afterAll(() => server?.forceShutdown());

  it("uploads the archive after its header, in chunks of at most 1 MiB, with the client certificate", async () => {
    const archive = Buffer.alloc(2 * TRANSFER_CHUNK_BYTES + 123, 7);
    const response = await client.upload(
      { backupId: "b1", ticket: "upload-ticket" },
      (async function* () {
        yield archive.subarray(0, 5);
        yield archive.subarray(5);
      })(),
      new AbortController().signal,
    );
    expect(response.sha256).toBe(createHash("sha256").update(archive).digest("hex"));
    expect(seen.headers).toEqual([{ backupId: "b1", ticket: "upload-ticket" }]);
    expect(seen.peerCertificate).toBe(true);
    expect(seen.largestChunk).toBe(TRANSFER_CHUNK_BYTES);
    expect(stored.get("b1")?.equals(archive)).toBe(true);
  });

  it("downloads the archive, and fails with the server's refusal", async () => {
    const parts: Buffer[] = [];
    for await (const chunk of client.download(
      { backupId: "b1", ticket: "download-ticket" },
      new AbortController().signal,
    )) {
      parts.push(Buffer.from(chunk));
    }
    expect(Buffer.concat(parts).equals(stored.get("b1") ?? Buffer.alloc(0))).toBe(true);
    const refused = async () => {
      for await (const _ of client.download(
        { backupId: "b1", ticket: "wrong" },
        new AbortController().signal,
      ));
    };
    await expect(refused()).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  });
});
