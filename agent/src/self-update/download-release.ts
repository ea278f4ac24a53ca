import { createHash } from "node:crypto";
import { open, rm } from "node:fs/promises";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  AgentReleaseService,
  type DownloadAgentRequest,
  DownloadAgentRequestSchema,
  type DownloadAgentResponse,
} from "@ocore/proto/gen/ocore/agent/v1/release_service_pb.js";
import { createGrpcServiceDefinition } from "@ocore/proto/grpc/service-definition.js";
import { CommandError } from "../commands/command-handler.js";
import type { ServerAddress } from "../connection/server-address.js";
import { createAgentTlsCredentials } from "../connection/tls-credentials.js";
import type { Identity } from "../identity/identity-store.js";

export interface DownloadedRelease {
  readonly sha256: string;
  readonly size: number;
  readonly version: string;
}

export interface DownloadOptions {
  readonly address: ServerAddress;
  readonly identity: Identity;
  /** The SHA-256 the command asked for (the server refuses when its release differs). */
  readonly sha256: string;
  /** Refuse to write more than this many bytes. */
  readonly maxBytes: number;
  /** Written with mode 0700; removed when the download fails. */
  readonly target: string;
  readonly signal: AbortSignal;
  /** Called with the byte count after each chunk. */
  readonly onProgress?: (bytes: number) => void;
}

/**
 * Downloads the server's agent release over mutual TLS (AgentReleaseService/DownloadAgent, our
 * key and certificate, only the oCore CA trusted) into `target`, hashing as it writes.
 */
export async function downloadRelease(options: DownloadOptions): Promise<DownloadedRelease> {
  const definition = createGrpcServiceDefinition(AgentReleaseService);
  const Client = grpc.makeGenericClientConstructor(definition, "AgentReleaseService");
  const { address, identity } = options;
  const client = new Client(
    address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`,
    createAgentTlsCredentials(address.host, {
      caPem: identity.caPem,
      keyPem: identity.keyPem,
      certificatePem: identity.certificatePem,
    }),
  );
  const method = definition.downloadAgent;
  const call = client.makeServerStreamRequest<DownloadAgentRequest, DownloadAgentResponse>(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    create(DownloadAgentRequestSchema, { sha256: options.sha256 }),
  );
  const cancel = () => call.cancel();
  options.signal.addEventListener("abort", cancel, { once: true });
  const file = await open(options.target, "w", 0o700);
  const hash = createHash("sha256");
  let size = 0;
  let version = "";
  try {
    for await (const message of call as AsyncIterable<DownloadAgentResponse>) {
      if (message.part.case === "release") {
        version = message.part.value.version;
      } else if (message.part.case === "chunk") {
        const chunk = message.part.value;
        size += chunk.byteLength;
        if (size > options.maxBytes) {
          throw new CommandError(
            "verification_failed",
            `the server sent more than the announced ${options.maxBytes} bytes; the release changed during the download: start the upgrade again`,
          );
        }
        hash.update(chunk);
        await file.write(chunk);
        options.onProgress?.(size);
      }
    }
    await file.sync();
    return { sha256: hash.digest("hex"), size, version };
  } catch (error) {
    await rm(options.target, { force: true });
    if (error instanceof CommandError) throw error;
    if (options.signal.aborted)
      throw new CommandError("cancelled", "the upgrade was cancelled during the download");
    const details = (error as Partial<grpc.ServiceError>).details || String(error);
    throw new CommandError(
      "download_failed",
      `downloading the agent release from ${address.text} failed: ${details}`,
    );
  } finally {
    options.signal.removeEventListener("abort", cancel);
    await file.close();
    client.close();
  }
}
