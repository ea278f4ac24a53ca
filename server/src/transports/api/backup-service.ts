import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { BackupSchedule, BackupService } from "@ocore/proto/gen/ocore/api/v1/backup_service_pb.js";
import type { BackupDeps } from "../../domain/backups/backup-deps.js";
import { type BackupRow, getBackup, getRetention, listBackups } from "../../domain/backups/backup-queries.js";
import {
  type BackupFrequency,
  type BackupScheduleView,
  getBackupSchedule,
  setBackupSchedule,
} from "../../domain/backups/backup-schedule.js";
import { createBackup } from "../../domain/backups/create-backup.js";
import { deleteBackup } from "../../domain/backups/delete-backup.js";
import { restoreBackup } from "../../domain/backups/restore-backup.js";
import { setRetention } from "../../domain/backups/set-retention.js";
import { requireInstanceDeps } from "../../domain/instances/instance-deps.js";
import { AppError } from "../../platform/errors/app-error.js";
import { instanceMessage } from "./instance-service.js";
import { auditContextOf } from "./request-context.js";

const CHUNK = 1024 * 1024;

function backupMessage(row: BackupRow) {
  return {
    id: row.id,
    instanceId: row.instanceId ?? "",
    instanceName: row.instanceName,
    serverId: row.serverId,
    kind: row.kind,
    state: row.state,
    errorMessage: row.errorMessage,
    sizeBytes: BigInt(row.sizeBytes),
    sha256: row.sha256,
    createdAt: timestampFromDate(row.createdAt),
    completedAt: row.completedAt ? timestampFromDate(row.completedAt) : undefined,
  };
}

function scheduleMessage(view: BackupScheduleView) {
  const frequency = view.frequency;
  return {
    enabled: view.enabled,
    frequency:
      frequency?.kind === "daily"
        ? {
            case: "dailyAt" as const,
            value: { hour: Math.floor(frequency.minuteOfDay / 60), minute: frequency.minuteOfDay % 60 },
          }
        : frequency?.kind === "hourly"
          ? { case: "everyHours" as const, value: frequency.everyHours }
          : { case: undefined },
    nextRunAt: view.nextRunAt ? timestampFromDate(view.nextRunAt) : undefined,
    lastRunAt: view.lastRunAt ? timestampFromDate(view.lastRunAt) : undefined,
    lastResult: view.lastResult ?? "",
    lastMessage: view.lastMessage,
    lastBackupId: view.lastBackupId ?? "",
  };
}

function frequencyOf(schedule: BackupSchedule): BackupFrequency | undefined {
  const frequency = schedule.frequency;
  if (frequency.case === "everyHours") return { kind: "hourly", everyHours: frequency.value };
  if (frequency.case !== "dailyAt") return undefined;
  const { hour, minute } = frequency.value;
  if (hour > 23 || minute > 59) {
    throw AppError.invalid("schedule.dailyAt", "must be a time of day from 00:00 to 23:59 (UTC)");
  }
  return { kind: "daily", minuteOfDay: hour * 60 + minute };
}

/** ocore.api.v1.BackupService: decode, call one use case, encode (RBAC is in rpc-policies). */
export function createBackupService(deps: {
  instances: BackupDeps | undefined;
}): ServiceImpl<typeof BackupService> {
  const need = () => requireInstanceDeps(deps.instances);
  return {
    async createBackup(request, context) {
      const row = await createBackup(need(), auditContextOf(context), {
        instanceId: request.instanceId,
        kind: "manual",
      });
      return { backup: backupMessage(row) };
    },
    async listBackups(request) {
      return { backups: (await listBackups(need().db, request.instanceId)).map(backupMessage) };
    },
    async *downloadBackup(request, context) {
      yield* downloadChunks(need(), request.id, context.signal);
    },
    async restoreBackup(request, context) {
      const { instance, adminPassword } = await restoreBackup(need(), auditContextOf(context), {
        backupId: request.id,
        newInstanceName: request.newInstanceName,
      });
      return { instance: instanceMessage(instance), adminPassword };
    },
    async getRetention(request) {
      return { retention: await getRetention(need().db, request.instanceId) };
    },
    async setRetention(request, context) {
      if (!request.retention) throw AppError.invalid("retention", "is required");
      const { policy, deleted } = await setRetention(need(), auditContextOf(context), request.instanceId, {
        daily: request.retention.daily,
        weekly: request.retention.weekly,
        monthly: request.retention.monthly,
      });
      return { retention: policy, deleted };
    },
    async deleteBackup(request, context) {
      await deleteBackup(need(), auditContextOf(context), request.id);
      return {};
    },
    async getBackupSchedule(request) {
      return { schedule: scheduleMessage(await getBackupSchedule(need().db, request.instanceId)) };
    },
    async setBackupSchedule(request, context) {
      if (!request.schedule) throw AppError.invalid("schedule", "is required");
      const view = await setBackupSchedule(need(), auditContextOf(context), request.instanceId, {
        enabled: request.schedule.enabled,
        frequency: frequencyOf(request.schedule),
      });
      return { schedule: scheduleMessage(view) };
    },
  };
}

async function* downloadChunks(deps: BackupDeps, id: string, signal: AbortSignal) {
  const row = await getBackup(deps.db, id);
  if (row.state !== "completed") {
    throw new AppError(
      "failed_precondition",
      `the backup is ${row.state}: only a completed backup can be downloaded`,
    );
  }
  for await (const piece of deps.store.get(row.storageKey, signal)) {
    for (let offset = 0; offset < piece.length; offset += CHUNK) {
      yield { chunk: piece.subarray(offset, offset + CHUNK) };
    }
  }
}
