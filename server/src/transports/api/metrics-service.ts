import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { type MetricsService, Resolution } from "@ocore/proto/gen/ocore/api/v1/metrics_service_pb.js";
import { scopeOf } from "../../domain/auth/principal.js";
import { getLatestSnapshotPage } from "../../domain/metrics/get-latest-snapshots.js";
import { getSeries, type Resolution as Tier } from "../../domain/metrics/get-series.js";
import type { MetricsRetention } from "../../domain/metrics/rollups.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import { principalOf } from "./request-context.js";
import { optionalRequestDate, requestDate } from "./request-values.js";
import { metricPointMessage } from "./server-messages.js";

export interface MetricsServiceDeps {
  readonly db: Db;
  readonly retention: MetricsRetention;
  readonly now: () => Date;
}

const tiers: Record<Tier, Resolution> = {
  raw: Resolution.RAW,
  minute: Resolution.MINUTE,
  hour: Resolution.HOUR,
};
const fromResolution: Partial<Record<Resolution, Tier>> = {
  [Resolution.RAW]: "raw",
  [Resolution.MINUTE]: "minute",
  [Resolution.HOUR]: "hour",
};

/** ocore.api.v1.MetricsService: decode, call the domain, encode. */
export function createMetricsService(deps: MetricsServiceDeps): ServiceImpl<typeof MetricsService> {
  return {
    async getSeries(request) {
      if (!request.startTime) throw AppError.invalid("startTime", "is required");
      const now = deps.now();
      const series = await getSeries(deps.db, {
        serverId: request.serverId,
        from: requestDate(request.startTime, "startTime"),
        to: optionalRequestDate(request.endTime, "endTime") ?? now,
        resolution: fromResolution[request.resolution],
        now,
        retention: deps.retention,
      });
      return { resolution: tiers[series.resolution], points: series.points.map(metricPointMessage) };
    },
    async getLatestSnapshots(request, context) {
      const scope = scopeOf(principalOf(context), "metrics.read");
      const { snapshots, nextPageToken } = await getLatestSnapshotPage(deps.db, {
        serverIds: request.serverIds,
        scope,
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return {
        nextPageToken,
        snapshots: snapshots.map((snapshot) => ({
          serverId: snapshot.serverId,
          name: snapshot.name,
          status: snapshot.status,
          lastSeenAt: snapshot.lastSeenAt ? timestampFromDate(snapshot.lastSeenAt) : undefined,
          latest: snapshot.latest ? metricPointMessage(snapshot.latest) : undefined,
        })),
      };
    },
  };
}
