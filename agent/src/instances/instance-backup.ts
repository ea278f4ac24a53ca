import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  InstanceBackedUpSchema,
  InstanceBackupSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { pack } from "tar-stream";
import { CommandError, defineHandler } from "../commands/command-handler.js";
import type { DockerDeps } from "../docker/docker-deps.js";
import { engineCall } from "../docker/docker-errors.js";
import type { BackupTransfer } from "./backup-transfer.js";
import { execInContainer } from "./container-exec.js";
import { checkInstanceId } from "./instance-layout.js";
import { getInstanceContainers } from "./instance-status.js";

/** The archive's two entries. */
export const DATABASE_ENTRY = "database.dump";
export const FILESTORE_ENTRY = "filestore.tar";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface BackupDeps extends DockerDeps {
  readonly transfer: BackupTransfer;
  /** Where dumps are staged before the upload (default: the OS temp dir). */
  readonly workDir?: string;
}

export function checkBackupId(id: string): string {
  if (!UUID.test(id)) throw new CommandError("invalid_argument", "backup_id must be the backup's UUID");
  return id;
}

export function checkDataPath(value: string): string {
  if (!path.isAbsolute(value) || path.normalize(value) !== value || value === "/") {
    throw new CommandError(
      "invalid_argument",
      `data_path "${value}" must be an absolute, normalized directory path`,
    );
  }
  return value;
}

/**
 * InstanceBackup: the dump (dump_command's stdout in the database container) and the data dir
 * (Docker's archive of it) are staged in a temporary directory, then packed into one tar that is
 * hashed as it is uploaded. The server's size and SHA-256 must match ours.
 */
export function instanceBackupHandler(deps: BackupDeps) {
  return defineHandler({
    input: InstanceBackupSchema,
    output: InstanceBackedUpSchema,
    async run(spec, { signal }) {
      const instanceId = checkInstanceId(spec.instanceId);
      const backupId = checkBackupId(spec.backupId);
      const dataPath = checkDataPath(spec.dataPath);
      if (!spec.uploadTicket) throw new CommandError("invalid_argument", "upload_ticket is missing");
      const containers = await getInstanceContainers(deps, instanceId, signal);
      if (!containers.db || !containers.odoo) {
        throw new CommandError(
          "not_found",
          `instance ${instanceId} lacks its database or Odoo container: restore it or recreate it`,
        );
      }
      const dir = await mkdtemp(path.join(deps.workDir ?? os.tmpdir(), "ocore-backup-"));
      try {
        const dumpFile = path.join(dir, DATABASE_ENTRY);
        const dump = await open(dumpFile, "w", 0o600);
        let result: Awaited<ReturnType<typeof execInContainer>>;
        try {
          result = await execInContainer(deps, containers.db, spec.dumpCommand, {
            signal,
            onStdout: async (data) => {
              await dump.write(data);
            },
          });
        } finally {
          await dump.close();
        }
        if (result.exitCode !== 0) {
          throw new CommandError(
            "dump_failed",
            `the dump command ${spec.dumpCommand[0]} exited with ${result.exitCode}${result.stderr ? `: ${result.stderr}` : ""}; check that the database container runs and the command is right`,
            result.exitCode,
          );
        }
        const filestoreFile = path.join(dir, FILESTORE_ENTRY);
        const archive = await engineCall(`the data directory ${dataPath}`, deps.socketPath, () =>
          deps.docker.getContainer(containers.odoo ?? "").getArchive({ path: dataPath, abortSignal: signal }),
        );
        await pipeline(archive, createWriteStream(filestoreFile), { signal });
        const files = [
          { name: DATABASE_ENTRY, file: dumpFile, size: (await stat(dumpFile)).size },
          { name: FILESTORE_ENTRY, file: filestoreFile, size: (await stat(filestoreFile)).size },
        ];
        const hash = createHash("sha256");
        let size = 0;
        const packed = packFiles(files);
        const hashed = async function* () {
          for await (const chunk of packed) {
            const bytes = chunk as Buffer;
            hash.update(bytes);
            size += bytes.length;
            yield bytes;
          }
        };
        const stored = await deps.transfer.upload({ backupId, ticket: spec.uploadTicket }, hashed(), signal);
        const sha256 = hash.digest("hex");
        if (stored.sha256 !== sha256 || Number(stored.sizeBytes) !== size) {
          throw new CommandError(
            "upload_corrupted",
            `the server stored ${stored.sizeBytes} bytes (sha256 ${stored.sha256}) but ${size} bytes (sha256 ${sha256}) were sent; take the backup again`,
          );
        }
        return {
          sizeBytes: BigInt(size),
          sha256,
          databaseBytes: BigInt(files[0]?.size ?? 0),
          filestoreBytes: BigInt(files[1]?.size ?? 0),
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  });
}

/** A tar of the given files, streamed one after the other. */
function packFiles(files: ReadonlyArray<{ name: string; file: string; size: number }>): Readable {
  const archive = pack();
  (async () => {
    for (const entry of files) {
      await new Promise<void>((resolve, reject) => {
        const sink = archive.entry({ name: entry.name, size: entry.size, mode: 0o600 }, (error) =>
          error ? reject(error) : resolve(),
        );
        pipeline(createReadStream(entry.file), sink).catch(reject);
      });
    }
    archive.finalize();
  })().catch((error: unknown) => archive.destroy(error as Error));
  return archive as unknown as Readable;
}
