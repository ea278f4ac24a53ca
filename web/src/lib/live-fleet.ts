import type {
  FleetServer,
  FleetWindow,
  WatchFleetResponse,
} from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";

/** The fleet as the console holds it: servers by id, from WatchFleet's batches. */
export type FleetMap = ReadonlyMap<string, FleetServer>;

/** Applies one WatchFleet batch: the initial one replaces everything, later ones patch. */
export function applyFleetBatch(current: FleetMap, batch: WatchFleetResponse): FleetMap {
  const next = new Map(batch.initial ? [] : current);
  for (const entry of batch.servers) {
    if (entry.server) next.set(entry.server.id, entry);
  }
  for (const id of batch.removedServerIds) next.delete(id);
  return next;
}

/** The servers of the map by name, as lists show them. */
export function sortedFleet(fleet: FleetMap): FleetServer[] {
  return [...fleet.values()].sort((a, b) => (a.server?.name ?? "").localeCompare(b.server?.name ?? ""));
}

/** The servers of a watched page in the page's order (a server not received yet is left out). */
export function windowEntries(fleet: FleetMap | undefined, window: FleetWindow | undefined): FleetServer[] {
  if (!fleet || !window) return [];
  return window.serverIds.flatMap((id) => {
    const entry = fleet.get(id);
    return entry ? [entry] : [];
  });
}
