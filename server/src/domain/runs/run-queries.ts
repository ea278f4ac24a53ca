import { asc, desc, eq, inArray } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { servers } from "../../platform/db/schema/servers.js";
import {
  commandRunHosts,
  commandRuns,
  commandTemplateVersions,
  type RunHostState,
} from "../../platform/db/schema/templates.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Scope } from "../auth/principal.js";
import { matchesSelector, type Tags } from "../auth/selector.js";
import { waveProgress } from "./wave-progress.js";

export type RunRow = typeof commandRuns.$inferSelect;
export type RunHostRow = typeof commandRunHosts.$inferSelect;

export interface RunSummary extends RunRow {
  readonly version: number;
  readonly versionHash: string;
  readonly templateName: string;
  readonly counts: Readonly<Partial<Record<RunHostState, number>>>;
  readonly dispatchedAfterBudget: number;
}

export interface OutputGroup {
  readonly state: string;
  readonly exitCode: number;
  readonly output: string;
  readonly serverNames: readonly string[];
}

/** Everything: for the dispatcher and callers that hold servers.read on every server. */
export const ALL_HOSTS: Scope = { all: true };

/** Whether a host with these tags is inside the caller's servers.read scope. */
export const inScope = (scope: Scope, tags: Tags) =>
  scope.all || scope.selectors.some((selector) => matchesSelector(selector, tags));

const FAILED: readonly string[] = ["failed", "timed_out", "unreachable"];
const rank = (state: string) => (FAILED.includes(state) ? 0 : state === "succeeded" ? 2 : 1);

/**
 * Runs with their counts. With a limited scope only the hosts the caller may see are counted, and
 * a run without any such host is left out (a user never learns of hosts outside their scope).
 */
async function summaries(db: Db, runs: RunRow[], scope: Scope = ALL_HOSTS): Promise<RunSummary[]> {
  if (runs.length === 0) return [];
  const ids = runs.map((r) => r.id);
  const versions = await db
    .select({
      id: commandTemplateVersions.id,
      version: commandTemplateVersions.version,
      hash: commandTemplateVersions.hash,
      definition: commandTemplateVersions.definition,
    })
    .from(commandTemplateVersions)
    .where(inArray(commandTemplateVersions.id, [...new Set(runs.map((r) => r.versionId))]));
  const hosts = await db
    .select({
      runId: commandRunHosts.runId,
      state: commandRunHosts.state,
      errorsAtDispatch: commandRunHosts.errorsAtDispatch,
      tags: servers.tags,
    })
    .from(commandRunHosts)
    .innerJoin(servers, eq(servers.id, commandRunHosts.serverId))
    .where(inArray(commandRunHosts.runId, ids));
  const seen = scope.all ? hosts : hosts.filter((h) => inScope(scope, h.tags));
  const visibleRuns = scope.all ? runs : runs.filter((run) => seen.some((h) => h.runId === run.id));
  return visibleRuns.map((run) => {
    const version = versions.find((v) => v.id === run.versionId);
    const counts: Partial<Record<RunHostState, number>> = {};
    let late = 0;
    for (const host of seen) {
      if (host.runId !== run.id) continue;
      counts[host.state] = (counts[host.state] ?? 0) + 1;
      if (host.errorsAtDispatch !== null && host.errorsAtDispatch > run.maxErrors) late += 1;
    }
    return {
      ...run,
      version: version?.version ?? 0,
      versionHash: version?.hash ?? "",
      templateName: (version?.definition as { name?: string } | undefined)?.name ?? "",
      counts,
      dispatchedAfterBudget: late,
    };
  });
}

/**
 * A run with its hosts (failures first, then in dispatch order) and its grouped outputs, as far as
 * `scope` lets the caller see: other hosts are left out of the hosts, counts and groups, and a run
 * with none the caller may see does not exist for them.
 */
export async function getRun(db: Db, runId: string, scope: Scope = ALL_HOSTS) {
  AppError.requireId(runId);
  const [run] = await db.select().from(commandRuns).where(eq(commandRuns.id, runId));
  if (!run) throw AppError.notFound(`run ${runId}`);
  const [summary] = await summaries(db, [run], scope);
  if (!summary) throw AppError.notFound(`run ${runId}`);
  const rows = await db
    .select({ host: commandRunHosts, tags: servers.tags })
    .from(commandRunHosts)
    .innerJoin(servers, eq(servers.id, commandRunHosts.serverId))
    .where(eq(commandRunHosts.runId, runId))
    .orderBy(asc(commandRunHosts.position), asc(commandRunHosts.serverName));
  const hosts = rows.filter((row) => inScope(scope, row.tags)).map((row) => row.host);
  const waves = waveProgress(summary, hosts);
  hosts.sort((a, b) => rank(a.state) - rank(b.state));
  return { run: summary, hosts, groups: groupOutputs(hosts), waves };
}

/** Ended hosts with the same state, exit code and output, grouped; failures first, then larger groups. */
export function groupOutputs(hosts: readonly RunHostRow[]): OutputGroup[] {
  const groups = new Map<
    string,
    { state: string; exitCode: number; output: string; serverNames: string[] }
  >();
  for (const host of hosts) {
    if (!["succeeded", "failed", "timed_out", "unreachable", "cancelled"].includes(host.state)) continue;
    const output = host.state === "unreachable" ? host.reason : host.output;
    const key = JSON.stringify([host.state, host.exitCode, output]);
    const group = groups.get(key) ?? { state: host.state, exitCode: host.exitCode, output, serverNames: [] };
    group.serverNames.push(host.serverName);
    groups.set(key, group);
  }
  return [...groups.values()].sort(
    (a, b) => rank(a.state) - rank(b.state) || b.serverNames.length - a.serverNames.length,
  );
}

/** The newest runs (up to `limit`), those with a host in `scope` (so possibly fewer). */
export async function listRuns(db: Db, limit: number, scope: Scope = ALL_HOSTS): Promise<RunSummary[]> {
  if (limit > 200) throw AppError.invalid("limit", "must be at most 200");
  const runs = await db
    .select()
    .from(commandRuns)
    .orderBy(desc(commandRuns.createdAt), desc(commandRuns.id))
    .limit(limit || 50);
  return summaries(db, runs, scope);
}

/** The failed hosts of a run (failed, timed out, unreachable) for a re-run. */
export async function failedHostsOf(db: Db, runId: string, scope: Scope = ALL_HOSTS): Promise<string[]> {
  const { hosts } = await getRun(db, runId, scope);
  return hosts.filter((h) => FAILED.includes(h.state)).map((h) => h.serverId);
}
