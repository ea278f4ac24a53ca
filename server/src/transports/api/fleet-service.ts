import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { FleetService } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { type Scope, scopeOf } from "../../domain/auth/principal.js";
import { matchesSelector, parseSelector } from "../../domain/auth/selector.js";
import type { FleetFeed } from "../../domain/fleet/fleet-feed.js";
import { type FleetEntry, readFleet } from "../../domain/fleet/fleet-state.js";
import { type DevicePoint, getDeviceSeries } from "../../domain/metrics/device-series.js";
import type { ServerRow } from "../../domain/servers/servers.js";
import type { Db } from "../../platform/db/database.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { AppError } from "../../platform/errors/app-error.js";
import { principalOf } from "./request-context.js";
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
      if (request.serverIds.length > MAX_WATCHED_IDS) {
        throw AppError.invalid("serverIds", `watch at most ${MAX_WATCHED_IDS} servers, or none for all`);
      }
      const invalid = request.serverIds.find((id) => !isUuid(id));
      if (invalid !== undefined)
        throw AppError.invalid("serverIds", `"${invalid.slice(0, 64)}" is not a server id`);
      const scope = scopeOf(principalOf(context), "servers.read");
      const ids = request.serverIds.length > 0 ? new Set(request.serverIds) : undefined;
      const selector = request.selector.trim() ? parseSelector(request.selector) : undefined;
      const visible = (server: ServerRow) =>
        inScope(scope, server) &&
        (!ids || ids.has(server.id)) &&
        (!selector || matchesSelector(selector, server.tags));
      // Subscribe first: a change that lands while the initial state is read is sent after it.
      const subscription = deps.feed.subscribe(visible, context.signal);
      const changes = subscription.changes();
      const initial = await readFleet(deps.db, scope, { ids, selector });
      subscription.know(initial.map((entry) => entry.server.id));
      yield { initial: true, servers: initial.map(fleetServerMessage), removedServerIds: [] };
      for await (const batch of changes) {
        yield {
          initial: false,
          servers: batch.upserts.map(fleetServerMessage),
          removedServerIds: [...batch.removed],
        };
      }
    },
    async getDeviceSeries(request) {
      if (!request.startTime) throw AppError.invalid("startTime", "is required");
      const points = await getDeviceSeries(deps.db, {
        serverId: request.serverId,
        from: timestampDate(request.startTime),
        to: request.endTime ? timestampDate(request.endTime) : deps.now(),
        maxPoints: request.maxPoints,
      });
      return { points: points.map(devicePointMessage) };
    },
  };
}

function inScope(scope: Scope, server: ServerRow): boolean {
  return scope.all || scope.selectors.some((selector) => matchesSelector(selector, server.tags));
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
