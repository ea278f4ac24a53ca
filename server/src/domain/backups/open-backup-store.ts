import type { Config } from "../../platform/config/config.js";
import { ConfigError } from "../../platform/config/config-error.js";
import { type BackupStore, createDirectoryBackupStore } from "./backup-store.js";
import { createS3BackupStore, S3StoreUnusable } from "./s3-backup-store.js";

/**
 * The backup store OCORE_BACKUP_STORE names. An S3 bucket is checked before the server goes on
 * starting, so a wrong bucket, endpoint or key is one line naming the setting to fix rather
 * than a failed backup hours later.
 */
export async function openBackupStore(instances: Config["instances"]): Promise<BackupStore> {
  const config = instances.backupStore;
  if (config.kind === "directory") return createDirectoryBackupStore(instances.backupDir);
  const store = createS3BackupStore(config);
  try {
    await store.verify();
  } catch (error) {
    store.close();
    if (!(error instanceof S3StoreUnusable)) throw error;
    const fixes = {
      no_bucket: [
        "OCORE_BACKUP_S3_BUCKET",
        "Create the bucket, or set OCORE_BACKUP_S3_BUCKET (and OCORE_BACKUP_S3_ENDPOINT, OCORE_BACKUP_S3_REGION) to an existing one.",
      ],
      denied: [
        "OCORE_BACKUP_S3_ACCESS_KEY_ID",
        "Set OCORE_BACKUP_S3_ACCESS_KEY_ID and OCORE_BACKUP_S3_SECRET_ACCESS_KEY to a key allowed to read, write and delete in the bucket.",
      ],
      unreachable: [
        "OCORE_BACKUP_S3_ENDPOINT",
        "Check OCORE_BACKUP_S3_ENDPOINT (and OCORE_BACKUP_S3_FORCE_PATH_STYLE=on for MinIO-like services), or that the service is up.",
      ],
    } as const;
    const [setting, fix] = fixes[error.reason];
    throw new ConfigError(setting, error.message, fix);
  }
  return store;
}
