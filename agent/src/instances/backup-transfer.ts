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
import type { ServerAddress } from "../connection/server-address.js";
import { createAgentTlsCredentials } from "../connection/tls-credentials.js";
import type { Identity } from "../identity/identity-store.js";

/** A transfer is authorized by the backup id and the one-time ticket its command carried. */
export interface TransferTicket {
  readonly backupId: string;
  readonly ticket: string;
}

/** How backup archives travel between this agent and the control server. */
export interface BackupTransfer {
  /** Sends the archive; resolves with what the server stored (size and SHA-256). */
  upload(
    ticket: TransferTicket,
    archive: AsyncIterable<Uint8Array>,
    signal: AbortSignal,
  ): Promise<UploadResponse>;
  /** The archive's bytes, as the server streams them. */
  download(ticket: TransferTicket, signal: AbortSignal): AsyncIterable<Uint8Array>;
}

/** Chunks on the wire stay well under the channel's 4 MiB message limit. */
export const TRANSFER_CHUNK_BYTES = 1024 * 1024;

/**
 * BackupTransferService over the agent gateway's mutual-TLS port (the same identity and trust
 * anchor as the agent stream). `identity` is loaded for every transfer, so a renewed certificate
 * is used at once.
 */
export function createBackupTransferClient(options: {
  address: ServerAddress;
  identity: () => Promise<Identity>;
}): BackupTransfer {
  const definition = createGrpcServiceDefinition(BackupTransferService);
  const Client = grpc.makeGenericClientConstructor(definition, "BackupTransferService");
  const target = options.address.host.includes(":")
    ? `[${options.address.host}]:${options.address.port}`
    : `${options.address.host}:${options.address.port}`;
  const open = async () => {
    const identity = await options.identity();
    return new Client(
      target,
      createAgentTlsCredentials(options.address.host, {
        caPem: identity.caPem,
        keyPem: identity.keyPem,
        certificatePem: identity.certificatePem,
      }),
    );
  };

  return {
    async upload(ticket, archive, signal) {
      const client = await open();
      try {
        let call: grpc.ClientWritableStream<UploadRequest> | undefined;
        const response = new Promise<UploadResponse>((resolve, reject) => {
          call = client.makeClientStreamRequest(
            definition.upload.path,
            definition.upload.requestSerialize,
            definition.upload.responseDeserialize,
            (error: grpc.ServiceError | null, value?: UploadResponse) =>
              error || !value ? reject(error ?? new Error("empty upload response")) : resolve(value),
          ) as grpc.ClientWritableStream<UploadRequest>;
        });
        const stream = call as unknown as grpc.ClientWritableStream<UploadRequest>;
        const onAbort = () => stream.cancel();
        signal.addEventListener("abort", onAbort, { once: true });
        try {
          await write(stream, create(UploadRequestSchema, { part: { case: "header", value: ticket } }));
          for await (const piece of archive) {
            for (let offset = 0; offset < piece.length; offset += TRANSFER_CHUNK_BYTES) {
              const chunk = piece.subarray(offset, offset + TRANSFER_CHUNK_BYTES);
              await write(stream, create(UploadRequestSchema, { part: { case: "chunk", value: chunk } }));
            }
          }
          stream.end();
          return await response;
        } finally {
          signal.removeEventListener("abort", onAbort);
        }
      } finally {
        client.close();
      }
    },
    async *download(ticket, signal) {
      const client = await open();
      const call = client.makeServerStreamRequest(
        definition.download.path,
        definition.download.requestSerialize,
        definition.download.responseDeserialize,
        create(DownloadRequestSchema, { header: ticket }),
      ) as grpc.ClientReadableStream<DownloadResponse>;
      const onAbort = () => call.cancel();
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        for await (const message of call as AsyncIterable<DownloadResponse>) yield message.chunk;
      } finally {
        signal.removeEventListener("abort", onAbort);
        call.cancel();
        client.close();
      }
    },
  };
}

/** Writes one message and waits for the stream to drain when its buffer is full. */
function write(stream: grpc.ClientWritableStream<UploadRequest>, message: UploadRequest): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const ok = stream.write(message, (error?: Error | null) => (error ? reject(error) : undefined));
    if (ok) resolve();
    else stream.once("drain", () => resolve());
  });
}
