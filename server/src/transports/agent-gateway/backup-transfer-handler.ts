import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import {
  type DownloadRequest,
  type DownloadResponse,
  DownloadResponseSchema,
  type UploadRequest,
  type UploadResponse,
  UploadResponseSchema,
} from "@ocore/proto/gen/ocore/agent/v1/backup_transfer_service_pb.js";
import { authenticateAgent } from "../../domain/agent-identity/authenticate-agent.js";
import type { BackupStore } from "../../domain/backups/backup-store.js";
import { openDownload, receiveUpload } from "../../domain/backups/backup-transfer.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { AgentPki } from "../../platform/pki/agent-pki.js";
import { endFromError, toServiceError } from "./grpc-status.js";

export interface BackupTransferDeps {
  readonly db: Db;
  readonly pki: AgentPki;
  readonly store: BackupStore;
  readonly logger: Logger;
  readonly now: () => Date;
}

const CHUNK = 1024 * 1024;

/**
 * ocore.agent.v1.BackupTransferService on the agent gateway: the agent is identified by its
 * verified client certificate (as AgentService/Connect does), the transfer by the backup id and
 * one-time ticket in the first message.
 */
export function createBackupTransferHandlers(deps: BackupTransferDeps) {
  const identify = (
    call:
      | grpc.ServerReadableStream<UploadRequest, UploadResponse>
      | grpc.ServerWritableStream<DownloadRequest, DownloadResponse>,
  ) =>
    authenticateAgent(deps.db, deps.pki, {
      certificateDer: call.getAuthContext()?.sslPeerCertificate?.raw,
      now: deps.now(),
    });

  const fail = (error: unknown, what: string) => {
    const end = endFromError(error);
    if (end.code === "internal") deps.logger.error({ err: error }, `backup ${what} failed`);
    return toServiceError(end);
  };

  const upload: grpc.handleClientStreamingCall<UploadRequest, UploadResponse> = (call, callback) => {
    const run = async () => {
      const identity = await identify(call);
      const messages = call[Symbol.asyncIterator]();
      const first = await messages.next();
      const header = !first.done && first.value.part.case === "header" ? first.value.part.value : undefined;
      if (!header) throw AppError.invalid("header", "the first message of an upload must be its header");
      const chunks = async function* () {
        for (let next = await messages.next(); !next.done; next = await messages.next()) {
          if (next.value.part.case !== "chunk")
            throw AppError.invalid("chunk", "only chunks may follow the header");
          yield next.value.part.value;
        }
      };
      const stored = await receiveUpload(
        deps.db,
        deps.store,
        { serverId: identity.serverId, backupId: header.backupId, ticket: header.ticket },
        chunks(),
        deps.now,
      );
      deps.logger.info(
        { serverId: identity.serverId, backupId: header.backupId, bytes: stored.sizeBytes },
        "backup uploaded",
      );
      return create(UploadResponseSchema, { sizeBytes: BigInt(stored.sizeBytes), sha256: stored.sha256 });
    };
    run().then(
      (response) => callback(null, response),
      (error: unknown) => callback(fail(error, "upload")),
    );
  };

  const download: grpc.handleServerStreamingCall<DownloadRequest, DownloadResponse> = (call) => {
    const run = async () => {
      const identity = await identify(call);
      const archive = await openDownload(deps.db, deps.store, {
        serverId: identity.serverId,
        backupId: call.request.header?.backupId ?? "",
        ticket: call.request.header?.ticket ?? "",
      });
      for await (const piece of archive) {
        for (let offset = 0; offset < piece.length; offset += CHUNK) {
          if (call.cancelled) return;
          const ok = call.write(
            create(DownloadResponseSchema, { chunk: piece.subarray(offset, offset + CHUNK) }),
          );
          if (!ok) await new Promise((resolve) => call.once("drain", resolve));
        }
      }
    };
    run().then(
      () => call.end(),
      (error: unknown) => call.emit("error", fail(error, "download")),
    );
  };

  return { upload, download };
}
