import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  InstanceRestoredSchema,
  InstanceRestoreSchema,
} from "@ocore/proto/gen/ocore/agent/v1/instance_commands_pb.js";
import { extract } from "tar-stream";
import { CommandError, defineHandler } from "../commands/command-handler.js";
import { engineCall } from "../docker/docker-errors.js";
import { execInContainer } from "./container-exec.js";
import {
  type BackupDeps,
  checkBackupId,
  checkDataPath,
  DATABASE_ENTRY,
  FILESTORE_ENTRY,
} from "./instance-backup.js";
import { checkInstanceId } from "./instance-layout.js";
import { getInstanceContainers, inspectInstance } from "./instance-status.js";

const ignoreNotModified = (error: unknown): void => {
  if ((error as { statusCode?: number }).statusCode !== 304) throw error;
};

/**
 * InstanceRestore: the archive is downloaded and its SHA-256 checked before anything changes;
 * then Odoo is stopped, the dump is fed to restore_command in the database container, the data
 * directory is written over from the filestore archive, and Odoo is started again (also when the
 * restore failed, so the instance is not left down).
 */
export function instanceRestoreHandler(deps: BackupDeps) {
  return defineHandler({
    input: InstanceRestoreSchema,
    output: InstanceRestoredSchema,
    async run(spec, { signal }) {
      const instanceId = checkInstanceId(spec.instanceId);
      const backupId = checkBackupId(spec.backupId);
      const dataPath = checkDataPath(spec.dataPath);
      if (!spec.downloadTicket) throw new CommandError("invalid_argument", "download_ticket is missing");
      if (!/^[0-9a-f]{64}$/.test(spec.sha256))
        throw new CommandError("invalid_argument", "sha256 must be 64 hex digits");
      if (spec.restoreCommand.length === 0)
        throw new CommandError("invalid_argument", "restore_command is empty");
      const containers = await getInstanceContainers(deps, instanceId, signal);
      const db = containers.db;
      const odoo = containers.odoo;
      if (!db || !odoo) {
        throw new CommandError(
          "not_found",
          `instance ${instanceId} lacks its database or Odoo container: recreate it first`,
        );
      }
      const dir = await mkdtemp(path.join(deps.workDir ?? os.tmpdir(), "ocore-restore-"));
      try {
        const file = path.join(dir, "backup.tar");
        const hash = createHash("sha256");
        const source = deps.transfer.download({ backupId, ticket: spec.downloadTicket }, signal);
        const hashing = async function* () {
          for await (const chunk of source) {
            hash.update(chunk);
            yield chunk;
          }
        };
        await pipeline(hashing, createWriteStream(file), { signal });
        const sha256 = hash.digest("hex");
        if (sha256 !== spec.sha256) {
          throw new CommandError(
            "checksum_mismatch",
            `the downloaded backup's sha256 is ${sha256}, not ${spec.sha256}: the stored archive is damaged; nothing was changed, restore another backup`,
          );
        }
        const odooContainer = deps.docker.getContainer(odoo);
        await engineCall("the Odoo container", deps.socketPath, () =>
          odooContainer.stop({ t: 20, abortSignal: signal }).catch(ignoreNotModified),
        );
        try {
          await engineCall("the database container", deps.socketPath, () =>
            deps.docker.getContainer(db).start({ abortSignal: signal }).catch(ignoreNotModified),
          );
          await restoreEntries(deps, {
            db,
            odoo,
            dataPath,
            restoreCommand: spec.restoreCommand,
            file,
            signal,
          });
        } finally {
          await odooContainer.start().catch(ignoreNotModified);
        }
        return { status: await inspectInstance(deps, instanceId, containers, signal) };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  });
}

async function restoreEntries(
  deps: BackupDeps,
  input: {
    db: string;
    odoo: string;
    dataPath: string;
    restoreCommand: string[];
    file: string;
    signal: AbortSignal;
  },
): Promise<void> {
  const seen = new Set<string>();
  const entries = extract();
  const reading = pipeline(createReadStream(input.file), entries, { signal: input.signal });
  for await (const entry of entries) {
    const name = entry.header.name;
    if (name === DATABASE_ENTRY) {
      const result = await execInContainer(deps, input.db, input.restoreCommand, {
        stdin: entry as unknown as AsyncIterable<Uint8Array>,
        onStdout: async () => {},
        signal: input.signal,
      });
      if (result.exitCode !== 0) {
        throw new CommandError(
          "restore_failed",
          `the restore command ${input.restoreCommand[0]} exited with ${result.exitCode}${result.stderr ? `: ${result.stderr}` : ""}; the database may be partly restored: restore the pre_restore backup`,
          result.exitCode,
        );
      }
    } else if (name === FILESTORE_ENTRY) {
      await engineCall("the data directory", deps.socketPath, () =>
        deps.docker.getContainer(input.odoo).putArchive(entry as unknown as Readable, {
          path: path.posix.dirname(input.dataPath),
          abortSignal: input.signal,
        }),
      );
    } else {
      entry.resume();
      continue;
    }
    seen.add(name);
  }
  await reading;
  for (const required of [DATABASE_ENTRY, FILESTORE_ENTRY]) {
    if (!seen.has(required)) {
      throw new CommandError(
        "invalid_backup",
        `the backup archive has no ${required}: it was not made by oCore`,
      );
    }
  }
}
