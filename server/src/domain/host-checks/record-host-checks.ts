import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { hostCheckChanges, hostCheckResults } from "../../platform/db/schema/host-checks.js";
import { instances } from "../../platform/db/schema/instances.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { Tags } from "../auth/selector.js";
import { type CheckState, isInstanceCheck, type ValidHostChecks } from "./host-check-input.js";
import { judgeCheck } from "./judge-check.js";
import type { ThresholdResolver } from "./server-thresholds.js";

/** State changes kept per check (server, key, subject); older ones are deleted as new ones come. */
export const CHECK_HISTORY_PER_CHECK = 100;

export interface RecordedChecks {
  readonly changed: number;
}

/**
 * Stores one cycle of an agent's check results: the newest result of each check replaces the
 * previous one (checks the agent no longer reports are dropped: a mount that went away, Docker
 * switched off), and a state change is appended to the check's history, which keeps the newest
 * CHECK_HISTORY_PER_CHECK changes. Inodes and cron lag are judged here with the server's (per-tag)
 * thresholds.
 * An instance's checks are kept only while oCore expects it to run (see watchedInstances).
 */
export async function recordHostChecks(
  db: Db,
  serverId: string,
  checks: ValidHostChecks,
  input: { readonly now: Date; readonly thresholdsFor: ThresholdResolver },
): Promise<RecordedChecks> {
  return db.transaction(async (tx) => {
    const [server] = await tx.select({ tags: servers.tags }).from(servers).where(eq(servers.id, serverId));
    if (!server) return { changed: 0 };
    const settings = input.thresholdsFor(server.tags as Tags);
    const thresholds = { inodes: settings.inodesPercent, cronLagMinutes: settings.cronLagMinutes };
    const watched = checks.results.some((check) => isInstanceCheck(check.key))
      ? await watchedInstances(tx, serverId)
      : new Set<string>();
    const results = checks.results.filter(
      (check) => !isInstanceCheck(check.key) || watched.has(check.subject),
    );
    const previous = await tx
      .select({
        key: hostCheckResults.key,
        subject: hostCheckResults.subject,
        state: hostCheckResults.state,
        since: hostCheckResults.since,
      })
      .from(hostCheckResults)
      .where(eq(hostCheckResults.serverId, serverId));
    const before = new Map(previous.map((row) => [`${row.key}\u0000${row.subject}`, row]));
    const rows = results.map((check) => {
      const old = before.get(`${check.key}\u0000${check.subject}`);
      const state = judgeCheck(check, old?.state as CheckState | undefined, thresholds);
      return {
        check,
        state,
        fromState: old?.state ?? "",
        since: old && old.state === state ? old.since : input.now,
      };
    });
    const reported = new Set(results.map((check) => `${check.key}\u0000${check.subject}`));
    for (const row of previous) {
      if (!reported.has(`${row.key}\u0000${row.subject}`)) {
        await tx
          .delete(hostCheckResults)
          .where(
            and(
              eq(hostCheckResults.serverId, serverId),
              eq(hostCheckResults.key, row.key),
              eq(hostCheckResults.subject, row.subject),
            ),
          );
      }
    }
    if (rows.length > 0) {
      await tx
        .insert(hostCheckResults)
        .values(
          rows.map(({ check, state, since }) => ({
            serverId,
            key: check.key,
            subject: check.subject,
            state,
            value: check.value ?? null,
            message: check.message,
            since,
            checkedAt: checks.checkedAt,
            receivedAt: input.now,
          })),
        )
        .onConflictDoUpdate({
          target: [hostCheckResults.serverId, hostCheckResults.key, hostCheckResults.subject],
          set: {
            state: sql`excluded.state`,
            value: sql`excluded.value`,
            message: sql`excluded.message`,
            since: sql`excluded.since`,
            checkedAt: sql`excluded.checked_at`,
            receivedAt: sql`excluded.received_at`,
          },
        });
    }
    const changes = rows.filter((row) => row.fromState !== row.state);
    if (changes.length > 0) {
      await tx.insert(hostCheckChanges).values(
        changes.map(({ check, state, fromState }) => ({
          serverId,
          key: check.key,
          subject: check.subject,
          fromState,
          toState: state,
          message: check.message,
          at: input.now,
        })),
      );
      for (const { check } of changes) {
        await tx.execute(sql`
          delete from host_check_changes
          where server_id = ${serverId} and key = ${check.key} and subject = ${check.subject}
            and id < coalesce((
              select id from host_check_changes
              where server_id = ${serverId} and key = ${check.key} and subject = ${check.subject}
              order by id desc offset ${CHECK_HISTORY_PER_CHECK - 1} limit 1
            ), 0)`);
      }
    }
    return { changed: changes.length };
  });
}

/**
 * The names of the instances of a server whose checks are kept: those oCore expects to run. An
 * instance stopped on purpose, still being created or being removed is not judged (its containers
 * are down or starting by design), nor is a container set oCore does not know.
 */
async function watchedInstances(tx: Pick<Db, "select">, serverId: string): Promise<Set<string>> {
  const rows = await tx
    .select({ name: instances.name, state: instances.state, desiredState: instances.desiredState })
    .from(instances)
    .where(eq(instances.serverId, serverId));
  return new Set(
    rows
      .filter((row) => row.desiredState === "running" && row.state !== "creating" && row.state !== "removing")
      .map((row) => row.name),
  );
}
