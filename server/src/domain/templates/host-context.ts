import type { HostFacts } from "@ocore/proto/host-facts.js";
import { asc, inArray } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { instances, portBlocks } from "../../platform/db/schema/instances.js";
import { servers } from "../../platform/db/schema/servers.js";

/** What a template may read about a host: its facts, tags, instance names and allocated ports. */
export interface HostContext {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly lastSeenAt: Date | null;
  readonly tags: Readonly<Record<string, string>>;
  readonly facts: HostFacts | null;
  readonly instances: readonly string[];
  readonly ports: readonly string[];
}

/** The contexts of these servers (unknown ids are left out), in the order of `ids`. */
export async function loadHostContexts(db: Db, ids: readonly string[]): Promise<HostContext[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({
      id: servers.id,
      name: servers.name,
      status: servers.status,
      lastSeenAt: servers.lastSeenAt,
      tags: servers.tags,
      facts: servers.facts,
    })
    .from(servers)
    .where(inArray(servers.id, [...ids]));
  const names = new Map<string, string[]>();
  for (const row of await db
    .select({ serverId: instances.serverId, name: instances.name })
    .from(instances)
    .where(inArray(instances.serverId, [...ids]))
    .orderBy(asc(instances.name))) {
    names.set(row.serverId, [...(names.get(row.serverId) ?? []), row.name]);
  }
  const ports = new Map<string, string[]>();
  for (const row of await db
    .select({ serverId: portBlocks.serverId, basePort: portBlocks.basePort })
    .from(portBlocks)
    .where(inArray(portBlocks.serverId, [...ids]))
    .orderBy(asc(portBlocks.basePort))) {
    ports.set(row.serverId, [...(ports.get(row.serverId) ?? []), String(row.basePort)]);
  }
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    if (!row) return [];
    return [
      {
        ...row,
        facts: row.facts ?? null,
        instances: names.get(id) ?? [],
        ports: ports.get(id) ?? [],
      },
    ];
  });
}

/** The value of a fact placeholder on a host; undefined when the host has not reported it. */
export function factValue(host: HostContext, name: string): string | undefined {
  const facts = host.facts;
  switch (name) {
    case "server_name":
      return host.name;
    case "server_id":
      return host.id;
    case "instances":
      return host.instances.join(",");
    case "ports":
      return host.ports.join(",");
    case "arch":
      return facts?.architecture || undefined;
    case "os_id":
      return facts?.osId || undefined;
    case "os_version":
      return facts ? facts.osVersion : undefined;
    case "hostname":
      return facts?.hostname || undefined;
    case "cores":
      return facts ? String(facts.cpuCores) : undefined;
    case "memory_mb":
      return facts ? String(Math.floor(facts.memoryTotalBytes / 1_048_576)) : undefined;
  }
  if (name.startsWith("tag.")) return host.tags[name.slice(4)];
  return undefined;
}
