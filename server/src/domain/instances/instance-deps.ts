import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { AuditContext } from "../audit/audit-context.js";
import type { CommandRunner } from "../commands/command-runner.js";
import type { BackgroundTasks } from "./background-tasks.js";

/** How long the agent gets for each kind of instance command (ms). */
export interface InstanceTiming {
  /** Reading the host's listening ports before an allocation: also how long an offline agent is waited for. */
  readonly portsMs: number;
  /** Creating an instance (pulling images included). */
  readonly createMs: number;
  /** Start, stop, restart, remove. */
  readonly actionMs: number;
  /** Refreshing states on Get/List; an agent slower than this shows the stored state. */
  readonly inspectMs: number;
  /** A backup or a restore. */
  readonly backupMs: number;
}

export const defaultInstanceTiming: InstanceTiming = {
  portsMs: 30_000,
  createMs: 15 * 60_000,
  actionMs: 2 * 60_000,
  inspectMs: 5_000,
  backupMs: 2 * 60 * 60_000,
};

/** The commands a backup and a restore run in the database container (PostgreSQL's tools). */
export interface DatabaseCommands {
  readonly dump: readonly string[];
  readonly restore: readonly string[];
}

/** pg_dump's custom format, restored with --clean --create into a fresh database. */
export const postgresCommands: DatabaseCommands = {
  dump: ["pg_dump", "--format=custom", "--username=odoo", "--dbname=odoo"],
  restore: ["pg_restore", "--clean", "--if-exists", "--create", "--username=odoo", "--dbname=postgres"],
};

/**
 * Takes the automatic backup that precedes a deletion (the backups domain provides it, so instances
 * need not know how backups are made). Resolves "nothing_there" when the instance has nothing to back
 * up (its containers never came up); rejects when the backup failed.
 */
export type BackupBeforeDelete = (
  context: AuditContext,
  instanceId: string,
) => Promise<"taken" | "nothing_there">;

/** Everything the instance use cases need; built once in the wiring (backups/backup-deps.ts). */
export interface InstanceDeps {
  readonly db: Db;
  readonly runner: CommandRunner;
  readonly backupBeforeDelete: BackupBeforeDelete;
  readonly tasks: BackgroundTasks;
  readonly logger: Logger;
  readonly images: { readonly odoo: string; readonly postgres: string; readonly mailpit: string };
  readonly timing: InstanceTiming;
  readonly databaseCommands: DatabaseCommands;
  readonly now: () => Date;
  /**
   * True when this process holds the server's live agent stream and the agent pushed a full
   * snapshot of its instance states on it: Get/List then read the stored states without asking.
   */
  readonly statesPushed?: (serverId: string) => boolean;
}

/** A deadline `ms` from now. */
export function deadlineIn(deps: InstanceDeps, ms: number): Date {
  return new Date(deps.now().getTime() + ms);
}

/**
 * The instance and backup RPCs need the backup store and the background tasks; an API built
 * without them (a read-only harness) refuses those RPCs with this error.
 */
export function requireInstanceDeps<Deps extends InstanceDeps>(deps: Deps | undefined): Deps {
  if (!deps) {
    throw new AppError("unavailable", "this server process does not manage instances; call another replica");
  }
  return deps;
}
