// Servers handed to a run form in its address (the fleet's "Run on these"): ?servers=id,id.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** At most this many ids travel in an address (the picker shows 200 servers). */
export const MAX_TARGETS_IN_URL = 200;

/** The server ids of a `servers` search parameter: well-formed ids only, no repeats, at most 200. */
export function serverIdsParam(value: string | string[] | undefined): string[] {
  const raw = (Array.isArray(value) ? value.join(",") : (value ?? "")).split(",");
  const ids = raw.map((s) => s.trim().toLowerCase()).filter((s) => UUID.test(s));
  return [...new Set(ids)].slice(0, MAX_TARGETS_IN_URL);
}

/** The address of a run form with these servers picked. */
export function withServers(path: string, serverIds: readonly string[]): string {
  const ids = [...new Set(serverIds)].slice(0, MAX_TARGETS_IN_URL);
  return ids.length ? `${path}?servers=${ids.join(",")}` : path;
}
