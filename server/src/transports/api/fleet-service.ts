import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { FleetService, WatchFleetRequest } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { scopeOf } from "../../domain/auth/principal.js";
import { parseSelector } from "../../domain/auth/selector.js";
import type { FleetFeed } from "../../domain/fleet/fleet-feed.js";
import type { FleetEntry, FleetWindowSpec } from "../../domain/fleet/fleet-state.js";
import { getFleetSummary } from "../../domain/fleet/fleet-summary.js";
import { type DevicePoint, getDeviceSeries } from "../../domain/metrics/device-series.js";
import { checkStatuses } from "../../domain/servers/server-page.js";
import type { Db } from "../../platform/db/database.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { AppError } from "../../platform/errors/app-error.js";
import { principalOf } from "./request-context.js";
import { optionalRequestDate, requestDate } from "./request-values.js";
import { bytes, metricPointMessage, serverMessage } from "./server-messages.js";

export interface FleetServiceDeps {
  readonly db: Db;
  readonly feed: FleetFeed;
  readonly now: () => Date;
}

export const MAX_WATCHED_IDS = 1000;

/** ocore.api.v1.FleetService: decode, call the fleet module, encode. */
export function createFleetService(deps: FleetServiceDeps): ServiceImpl<typeof FleetService> {
  return {
    async *watchFleet(request, context) {
      const scope = scopeOf(principalOf(context), "servers.read");
      for await (const batch of deps.feed.watch(scope, windowSpecOf(request), context.signal)) {
        yield {
          initial: batch.initial,
          servers: batch.upserts.map(fleetServerMessage),
          removedServerIds: [...batch.removed],
          window: batch.window && { ...batch.window, serverIds: [...batch.window.serverIds] },
        };
      }
    },
    async getDeviceSeries(request) {
      if (!request.startTime) throw AppError.invalid("startTime", "is required");
      const points = await getDeviceSeries(deps.db, {
        serverId: request.serverId,
        from: requestDate(request.startTime, "startTime"),
        to: optionalRequestDate(request.endTime, "endTime") ?? deps.now(),
        maxPoints: request.maxPoints,
      });
      return { points: points.map(devicePointMessage) };
    },
    async getFleetSummary(request, context) {
      const scope = scopeOf(principalOf(context), "servers.read");
      const summary = await getFleetSummary(deps.db, scope, { top: request.top });
      return {
        total: summary.total,
        statusCounts: { ...summary.statusCounts },
        tags: [...summary.tags],
        busiestCpu: [...summary.busiestCpu],
        busiestMemory: [...summary.busiestMemory],
        busiestDisk: [...summary.busiestDisk],
        failed: [...summary.failed],
      };
    },
  };
}

/** What a WatchFleet request follows; every kind is bounded. */
function windowSpecOf(request: WatchFleetRequest): FleetWindowSpec {
  const { window } = request;
  if (window) {
    if (request.serverIds.length > 0 || request.selector.trim())
      throw AppError.invalid("window", "give either a window or server_ids and selector, not both");
    return {
      kind: "page",
      page: {
        statuses: checkStatuses(window.statuses),
        selector: window.selector.trim() ? parseSelector(window.selector, "window.selector") : undefined,
        query: window.query,
        orderBy: window.orderBy,
        pageSize: window.pageSize,
        pageToken: window.pageToken,
      },
    };
  }
  if (request.serverIds.length > MAX_WATCHED_IDS) {
    throw AppError.invalid("serverIds", `watch at most ${MAX_WATCHED_IDS} servers, or none for all`);
  }
  const invalid = request.serverIds.find((id) => !isUuid(id));
  if (invalid !== undefined)
    throw AppError.invalid("serverIds", `"${invalid.slice(0, 64)}" is not a server id`);
  const selector = request.selector.trim() ? parseSelector(request.selector) : undefined;
  if (request.serverIds.length > 0) return { kind: "ids", ids: [...new Set(request.serverIds)], selector };
  return { kind: "first", selector, limit: MAX_WATCHED_IDS };
}

function fleetServerMessage(entry: FleetEntry) {
  return {
    server: serverMessage(entry.server, { job: entry.job }),
    latest: entry.latest ? metricPointMessage(entry.latest) : undefined,
    instanceCount: entry.instances.count,
    instancesChangedAt: entry.instances.changedAt ? timestampFromDate(entry.instances.changedAt) : undefined,
  };
}

function devicePointMessage(point: DevicePoint) {
  const { detail } = point;
  return {
    time: timestampFromDate(point.time),
    coreUsagePercent: [...detail.cores],
    memoryUsedBytes: bytes(point.memoryUsed),
    memoryActiveBytes: bytes(point.memoryActive),
    swapUsedBytes: bytes(point.swapUsed),
    filesystems: detail.fs.map(([mount, device, fsType, total, used]) => ({
      mount,
      device,
      fsType,
      totalBytes: bytes(total),
      usedBytes: bytes(used),
    })),
    disks: detail.disks.map(([device, read, write]) => ({
      device,
      readBytesPerSecond: read,
      writeBytesPerSecond: write,
    })),
    nics: detail.nics.map(([name, rx, tx]) => ({ name, rxBytesPerSecond: rx, txBytesPerSecond: tx })),
    containers: detail.containers.map(([id, name, state, cpu, memory, limit]) => ({
      id,
      name,
      state,
      cpuPercent: cpu,
      memoryBytes: bytes(memory),
      memoryLimitBytes: bytes(limit),
    })),
  };
}
