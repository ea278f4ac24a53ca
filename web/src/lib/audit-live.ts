import type { AuditEntry } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";

/** Live entries the page keeps; older ones stay reachable through the list's pages and export. */
export const MAX_LIVE_ENTRIES = 1_000;

/** Where following continues after a first list page: nothing written since it was read is missed. */
export function followStart(page: { readonly latestId: bigint; readonly entries: readonly AuditEntry[] }) {
  const newest = page.entries[0]?.id ?? 0n;
  return page.latestId > newest ? page.latestId : newest;
}

/** Adds entries that arrived (oldest first) to the live ones (newest first), at most `MAX_LIVE_ENTRIES`. */
export function addLiveEntries(live: readonly AuditEntry[], arrived: readonly AuditEntry[]): AuditEntry[] {
  return [...arrived].reverse().concat(live).slice(0, MAX_LIVE_ENTRIES);
}

/** The entries to show, newest first: live ones, then listed ones, each id once. */
export function mergeAuditEntries(live: readonly AuditEntry[], listed: readonly AuditEntry[]): AuditEntry[] {
  const seen = new Set<bigint>();
  const merged: AuditEntry[] = [];
  for (const entry of [...live, ...listed]) {
    if (seen.has(entry.id)) continue;
    seen.add(entry.id);
    merged.push(entry);
  }
  return merged.sort((a, b) => (a.id === b.id ? 0 : a.id > b.id ? -1 : 1));
}
