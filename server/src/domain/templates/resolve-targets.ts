import { asc } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Tags } from "../auth/selector.js";
import { matchesSelector, parseSelector } from "../auth/selector.js";
import { selectorCondition } from "../auth/selector-sql.js";
import { type HostContext, loadHostContexts } from "./host-context.js";
import { type HostRender, renderForHost } from "./render-for-host.js";
import type { TemplateDefinition } from "./template-definition.js";

/** The most hosts one run may target. */
export const MAX_TARGETS = 20_000;

export interface Targets {
  readonly serverIds: readonly string[];
  readonly selector: string;
}

export type PlannedHost =
  | { readonly host: HostContext; readonly render: HostRender; readonly refused?: undefined }
  | { readonly host: HostContext; readonly refused: string; readonly render?: undefined };

/**
 * The hosts a run targets (listed ids and selector matches, in that order, each once), each
 * rendered, or refused with its reason: outside the template's scope, without the caller's
 * `commands.run` there, or without a value for a placeholder. Never silently dropped; an unknown
 * id or a target list that refuses every host is an invalid_argument naming the field.
 */
export async function planHosts(
  db: Db,
  input: {
    readonly definition: TemplateDefinition;
    readonly parameters: Readonly<Record<string, string>>;
    readonly targets: Targets;
    /** Whether the caller may run commands on a server with these tags. */
    readonly mayRunOn: (tags: Tags) => boolean;
  },
): Promise<PlannedHost[]> {
  const { targets } = input;
  input.targets.serverIds.forEach((id, i) => {
    AppError.requireId(id, `targets.server_ids.${i}`);
  });
  if (targets.serverIds.length === 0 && targets.selector.trim() === "") {
    throw AppError.invalid("targets", "name servers (server_ids), a selector, or both");
  }
  const ids = [...new Set(targets.serverIds)];
  if (targets.selector.trim() !== "") {
    const selector = parseSelector(targets.selector, "targets.selector");
    const matched = await db
      .select({ id: servers.id })
      .from(servers)
      .where(selectorCondition(servers.tags, selector))
      .orderBy(asc(servers.name))
      .limit(MAX_TARGETS + 1);
    for (const { id } of matched) if (!ids.includes(id)) ids.push(id);
  }
  if (ids.length > MAX_TARGETS) throw AppError.invalid("targets", `match more than ${MAX_TARGETS} servers`);
  if (ids.length === 0) throw AppError.invalid("targets.selector", "matches no server");
  const hosts = await loadHostContexts(db, ids);
  if (hosts.length < ids.length) {
    const known = new Set(hosts.map((h) => h.id));
    const index = targets.serverIds.findIndex((id) => !known.has(id));
    throw AppError.invalid(`targets.server_ids.${Math.max(index, 0)}`, "names a server that does not exist");
  }
  const planned: PlannedHost[] = hosts.map((host) => {
    if (!matchesSelector(parseSelector(input.definition.scope), host.tags)) {
      return { host, refused: `outside the template's scope (${input.definition.scope})` };
    }
    if (!input.mayRunOn(host.tags)) {
      return { host, refused: "you do not hold commands.run on this server" };
    }
    const outcome = renderForHost(input.definition, input.parameters, host);
    return outcome.ok ? { host, render: outcome.render } : { host, refused: outcome.reason };
  });
  if (planned.every((p) => p.refused !== undefined)) {
    const first = planned[0] as PlannedHost;
    throw AppError.invalid(
      "targets",
      `every target is refused (${planned.length} server${planned.length === 1 ? "" : "s"}; e.g. ${first.host.name}: ${first.refused})`,
    );
  }
  return planned;
}
