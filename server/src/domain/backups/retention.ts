/** How many backups an instance keeps: the newest of each of the last N days, ISO weeks and months. */
export interface RetentionPolicy {
  readonly daily: number;
  readonly weekly: number;
  readonly monthly: number;
}

export const MAX_RETENTION = 1000;

const day = (at: Date) => at.toISOString().slice(0, 10);
const month = (at: Date) => at.toISOString().slice(0, 7);

/** ISO 8601 week, e.g. "2026-W47" (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeek(at: Date): string {
  const date = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

/**
 * The ids to keep under `policy` (grandfather-father-son): walking from the newest backup, the
 * first of each distinct day is kept until `daily` days are kept, likewise weeks and months; a
 * backup kept by any rule stays. A policy of all zeros keeps everything. Times are UTC.
 */
export function backupsToKeep(
  backups: ReadonlyArray<{ readonly id: string; readonly createdAt: Date }>,
  policy: RetentionPolicy,
): Set<string> {
  if (policy.daily === 0 && policy.weekly === 0 && policy.monthly === 0) {
    return new Set(backups.map((backup) => backup.id));
  }
  const newestFirst = [...backups].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const keep = new Set<string>();
  const rules: Array<{ limit: number; period: (at: Date) => string; seen: Set<string> }> = [
    { limit: policy.daily, period: day, seen: new Set() },
    { limit: policy.weekly, period: isoWeek, seen: new Set() },
    { limit: policy.monthly, period: month, seen: new Set() },
  ];
  for (const backup of newestFirst) {
    for (const rule of rules) {
      const period = rule.period(backup.createdAt);
      if (rule.seen.size < rule.limit && !rule.seen.has(period)) {
        rule.seen.add(period);
        keep.add(backup.id);
      }
    }
  }
  return keep;
}
