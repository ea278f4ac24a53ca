import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { MetricPointSchema } from "@ocore/proto/gen/ocore/api/v1/metrics_service_pb.js";
import type { ServerSchema } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import type { SeriesPoint } from "../../domain/metrics/get-series.js";
import type { ServerDetails } from "../../domain/servers/server-details.js";
import type { ServerRow } from "../../domain/servers/servers.js";
import type { provisioningJobs } from "../../platform/db/schema/provisioning.js";

/** The Server and MetricPoint messages, encoded once for every service that returns them. */

type JobRow = typeof provisioningJobs.$inferSelect;
/** A job at a glance (lists and the live fleet) or whole, with verdicts and facts (GetServer). */
export type JobForMessage = Pick<
  JobRow,
  "kind" | "state" | "step" | "attempt" | "errorReason" | "errorMessage"
> &
  Partial<JobRow>;

export const bytes = (value: number): bigint => BigInt(Math.max(0, Math.round(value)));

export function serverMessage(
  row: ServerRow,
  details?: {
    readonly job?: JobForMessage;
    readonly steps?: ServerDetails["steps"];
    readonly hasCredentials?: boolean;
  },
): MessageInitShape<typeof ServerSchema> {
  const job = details?.job;
  return {
    id: row.id,
    name: row.name,
    host: row.host,
    sshPort: row.sshPort,
    sshUser: row.sshUser,
    status: row.status,
    statusReason: row.statusReason ?? "",
    statusMessage: row.statusMessage ?? "",
    tags: row.tags,
    lastSeenAt: row.lastSeenAt ? timestampFromDate(row.lastSeenAt) : undefined,
    createdAt: timestampFromDate(row.createdAt),
    agentVersion: row.agentVersion ?? "",
    facts: row.facts
      ? {
          ...row.facts,
          memoryTotalBytes: BigInt(row.facts.memoryTotalBytes),
          bootedAt: row.facts.bootedAt ? timestampFromDate(new Date(row.facts.bootedAt)) : undefined,
        }
      : undefined,
    hostKeyFingerprint: row.hostKeyFingerprint ?? "",
    hostKeyAlgorithm: row.hostKeyAlgorithm ?? "",
    pendingHostKeyFingerprint: row.pendingHostKeyFingerprint ?? "",
    installMode: row.installMode ?? "",
    hasCredentials: details?.hasCredentials ?? false,
    provisioning: job
      ? {
          kind: job.kind,
          state: job.state,
          step: job.step,
          attempt: job.attempt,
          errorReason: job.errorReason ?? "",
          errorMessage: job.errorMessage ?? "",
          plannedInstances: job.plannedInstances,
          acceptedRequirements: job.acceptedRequirements,
          verdicts: (job.verdicts ?? []).map((verdict) => ({
            ...verdict,
            accepted: verdict.accepted ?? false,
          })),
          facts: job.facts
            ? {
                ...job.facts,
                memoryTotalBytes: BigInt(job.facts.memoryTotalBytes),
                diskAvailableBytes: BigInt(job.facts.diskAvailableBytes),
                diskTotalBytes: BigInt(job.facts.diskTotalBytes),
              }
            : undefined,
          steps: (details?.steps ?? []).map((step) => ({
            attempt: step.attempt,
            step: step.step,
            status: step.status,
            message: step.message,
            startedAt: timestampFromDate(step.startedAt),
            endedAt: step.endedAt ? timestampFromDate(step.endedAt) : undefined,
          })),
        }
      : undefined,
  };
}

export function metricPointMessage(point: SeriesPoint): MessageInitShape<typeof MetricPointSchema> {
  return {
    time: timestampFromDate(point.time),
    samples: point.samples,
    cpuUsagePercent: point.cpuPercent,
    cpuUsagePercentMax: point.cpuPercentMax,
    load1: point.load1,
    load5: point.load5,
    load15: point.load15,
    memoryTotalBytes: bytes(point.memoryTotal),
    memoryUsedBytes: bytes(point.memoryUsed),
    memoryUsedBytesMax: bytes(point.memoryUsedMax),
    memoryAvailableBytes: bytes(point.memoryAvailable),
    swapUsedBytes: bytes(point.swapUsed),
    diskUsedPercent: point.diskUsedPercent,
    diskReadBytesPerSecond: point.diskReadBps,
    diskWriteBytesPerSecond: point.diskWriteBps,
    networkRxBytesPerSecond: point.netRxBps,
    networkTxBytesPerSecond: point.netTxBps,
    tcpConnections: point.tcpConnections,
    containersRunning: point.containersRunning ?? undefined,
  };
}
