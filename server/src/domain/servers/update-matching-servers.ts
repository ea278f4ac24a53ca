import { randomUUID } from "node:crypto";
import { and, asc, count, gt, inArray, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import type { Scope } from "../auth/principal.js";
import { isValidTagKey, matchesSelector, type Selector, type Tags } from "../auth/selector.js";
import { selectorCondition } from "../auth/selector-sql.js";
import { isServerStatus, SERVER_STATUSES } from "../server-status/server-status.js";
import { MAX_QUERY_LENGTH, searchCondition } from "./server-page.js";
import { scopeCondition } from "./servers.js";
import { checkTags, MAX_TAGS } from "./tags.js";

/** Servers per transaction (and per audit entry): bounds lock time, memory and an entry's size. */
export const BULK_BATCH_SIZE = 1000;

/** What ListServers filters by, without paging: the "all matching this filter" of a bulk action. */
export interface ServerFilter {
  readonly statuses?: readonly string[];
  readonly selector?: Selector;
  /** Case-insensitive substring of the name or the host. */
  readonly query?: string;
  /** Only these servers (rows ticked one by one), at most MAX_FILTER_IDS; empty: all. */
  readonly ids?: readonly string[];
}

export const MAX_FILTER_IDS = 1000;

export interface UpdateMatchingInput {
  readonly filter: ServerFilter;
  readonly setTags: Readonly<Record<string, string>>;
  readonly removeTags: readonly string[];
  /** Only count. */
  readonly dryRun: boolean;
  /** The count the caller confirmed; required unless dryRun. */
  readonly expectedCount: number;
  readonly batchSize?: number;
}

export interface UpdateMatchingResult {
  /** Servers matching the filter within the scope (when the change started). */
  readonly matched: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly skippedOutOfScope: number;
  readonly skippedTooManyTags: number;
  /** The audit entries' target id; empty for a dry run or when nothing matched. */
  readonly operationId: string;
}

/**
 * Adds and removes tags on every server matching `filter` within `scope` (the caller's
 * servers.write scope). The filter is resolved here, a batch at a time in name order (keyset, so
 * a server whose change makes it leave the filter is neither skipped nor seen twice); each batch
 * is one transaction that locks its rows, updates them in one statement and writes one audit
 * entry (decision 0240). Never touches more servers than `expectedCount`, the count the caller
 * confirmed. A scoped caller cannot tag a server out of its own scope: such servers are skipped.
 */
export async function updateMatchingServers(
  db: Db,
  context: AuditContext,
  scope: Scope,
  input: UpdateMatchingInput,
): Promise<UpdateMatchingResult> {
  const where = filterCondition(scope, input.filter);
  const set = checkTags(input.setTags, "set_tags");
  const remove = checkRemovals(input.removeTags, set);
  const empty = { updated: 0, unchanged: 0, skippedOutOfScope: 0, skippedTooManyTags: 0, operationId: "" };
  if (!input.dryRun) {
    if (Object.keys(set).length === 0 && remove.length === 0) {
      throw AppError.invalid("set_tags", "nothing to change: give set_tags or remove_tags");
    }
    if (!Number.isInteger(input.expectedCount) || input.expectedCount < 1) {
      throw AppError.invalid(
        "expected_count",
        "is required: the count a dry run returned, which you confirmed",
      );
    }
  }
  const [counted] = await db.select({ n: count() }).from(servers).where(where);
  const matched = Number(counted?.n ?? 0);
  if (input.dryRun || matched === 0) return { matched, ...empty };
  if (matched > input.expectedCount) {
    throw new AppError(
      "failed_precondition",
      `the filter now matches ${matched} servers, more than the ${input.expectedCount} confirmed; count again and confirm`,
    );
  }

  const batchSize = input.batchSize ?? BULK_BATCH_SIZE;
  // The audit keeps what the change overwrote (enough to undo it), not every tag of every server.
  const touched = [...Object.keys(set), ...remove];
  const operationId = randomUUID();
  const totals = { ...empty, operationId };
  const auditedFilter = {
    ids: input.filter.ids ?? [],
    statuses: input.filter.statuses ?? [],
    selector: input.filter.selector?.source ?? "",
    query: input.filter.query ?? "",
  };
  let after: string | undefined;
  let seen = 0;
  for (let batch = 1; seen < input.expectedCount; batch++) {
    const limit = Math.min(batchSize, input.expectedCount - seen);
    const outcome = await db.transaction(async (tx) => {
      const rows = await tx
        .select({ id: servers.id, name: servers.name, tags: servers.tags })
        .from(servers)
        .where(and(where, after === undefined ? undefined : gt(servers.name, after)))
        .orderBy(asc(servers.name))
        .limit(limit)
        .for("update");
      const changed: { id: string; before: Record<string, string | null> }[] = [];
      let unchanged = 0;
      let outOfScope = 0;
      let tooMany = 0;
      for (const row of rows) {
        const next = changedTags(row.tags, set, remove);
        if (!next) unchanged++;
        else if (Object.keys(next).length > MAX_TAGS) tooMany++;
        else if (!scope.all && !scope.selectors.some((selector) => matchesSelector(selector, next)))
          outOfScope++;
        else changed.push({ id: row.id, before: touchedValues(row.tags, touched) });
      }
      if (changed.length > 0) {
        const ids = changed.map((row) => row.id);
        const now = new Date();
        await tx
          .update(servers)
          .set({
            // The same change for every row: merge, then drop keys (a JSON array, as drizzle expands JS arrays).
            tags: sql`(${servers.tags} || ${JSON.stringify(set)}::jsonb) - array(select jsonb_array_elements_text(${JSON.stringify(remove)}::jsonb))`,
            updatedAt: now,
          })
          // One array parameter: 1000 bound ids made the statement ≈3× slower to plan and run.
          .where(sql`${servers.id} = any(${`{${ids.join(",")}}`}::uuid[])`);
        await recordAudit(
          tx,
          context,
          {
            action: "server.bulk_update",
            targetType: "server_filter",
            targetId: operationId,
            before: { tags: Object.fromEntries(changed.map((row) => [row.id, row.before])) },
            after: { filter: auditedFilter, setTags: set, removeTags: remove, batch, ids },
            detail: `batch ${batch}: ${changed.length} servers updated of ${matched} matching`,
          },
          now,
        );
      }
      return { rows, updated: changed.length, unchanged, outOfScope, tooMany };
    });
    totals.updated += outcome.updated;
    totals.unchanged += outcome.unchanged;
    totals.skippedOutOfScope += outcome.outOfScope;
    totals.skippedTooManyTags += outcome.tooMany;
    seen += outcome.rows.length;
    const last = outcome.rows.at(-1);
    if (!last || outcome.rows.length < limit) break;
    after = last.name;
    // PGlite runs in this process: without a turn of the event loop between batches, a change of
    // 100,000 servers would hold off every timer and socket (agents, other requests) until it ends.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { matched, ...totals };
}

/** The servers matching `filter` within `scope`, as a SQL condition (what ListServers would list). */
export function filterCondition(scope: Scope, filter: ServerFilter): SQL | undefined {
  const unknown = (filter.statuses ?? []).filter((status) => !isServerStatus(status));
  if (unknown.length > 0) {
    throw AppError.invalid(
      "filter.statuses",
      `unknown: ${unknown.join(", ")}; known: ${SERVER_STATUSES.join(", ")}`,
    );
  }
  const statuses = (filter.statuses ?? []).filter(isServerStatus);
  const query = (filter.query ?? "").trim();
  if (query.length > MAX_QUERY_LENGTH)
    throw AppError.invalid("filter.query", `at most ${MAX_QUERY_LENGTH} characters`);
  const ids = filter.ids ?? [];
  if (ids.length > MAX_FILTER_IDS) throw AppError.invalid("filter.ids", `at most ${MAX_FILTER_IDS}`);
  const badId = ids.find((id) => !isUuid(id));
  if (badId !== undefined) throw AppError.invalid("filter.ids", `"${badId.slice(0, 40)}" is not a server id`);
  return and(
    scopeCondition(scope),
    ids.length > 0 ? sql`${servers.id} = any(${`{${ids.join(",")}}`}::uuid[])` : undefined,
    statuses.length > 0 ? inArray(servers.status, statuses) : undefined,
    filter.selector ? selectorCondition(servers.tags, filter.selector) : undefined,
    query ? searchCondition(query) : undefined,
  );
}

function checkRemovals(keys: readonly string[], set: Readonly<Record<string, string>>): string[] {
  const unique = [...new Set(keys)];
  if (unique.length > MAX_TAGS) throw AppError.invalid("remove_tags", `at most ${MAX_TAGS} keys`);
  for (const key of unique) {
    if (!isValidTagKey(key))
      throw AppError.invalid("remove_tags", `${JSON.stringify(key.slice(0, 63))} is not a tag key`);
    if (Object.hasOwn(set, key)) throw AppError.invalid("remove_tags", `"${key}" is also in set_tags`);
  }
  return unique.sort();
}

/** The values the change overwrites or removes; null where the server had no such key. */
function touchedValues(tags: Tags, keys: readonly string[]): Record<string, string | null> {
  return Object.fromEntries(keys.map((key) => [key, Object.hasOwn(tags, key) ? (tags[key] ?? null) : null]));
}

/** The tags after the change, or undefined when the change leaves them as they are. */
function changedTags(tags: Tags, set: Tags, remove: readonly string[]): Tags | undefined {
  const next: Record<string, string> = { ...tags, ...set };
  for (const key of remove) delete next[key];
  const same =
    Object.keys(next).length === Object.keys(tags).length &&
    Object.entries(next).every(([key, value]) => tags[key] === value);
  return same ? undefined : next;
}
