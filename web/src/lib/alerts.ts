/** How the console orders and names alerts (pure, so it is tested without a browser). */
export interface AlertLike {
  readonly state: string;
  readonly severity: string;
  readonly serverName: string;
  readonly ruleName: string;
}

const STATE_ORDER = ["firing", "pending", "unreachable", "resolved"];

/** Firing first, then pending, unreachable and resolved; critical before warning; then by server. */
export function sortAlerts<T extends AlertLike>(alerts: readonly T[]): T[] {
  const rank = (state: string) => {
    const index = STATE_ORDER.indexOf(state);
    return index === -1 ? STATE_ORDER.length : index;
  };
  return [...alerts].sort(
    (a, b) =>
      rank(a.state) - rank(b.state) ||
      Number(b.severity === "critical") - Number(a.severity === "critical") ||
      a.serverName.localeCompare(b.serverName) ||
      a.ruleName.localeCompare(b.ruleName),
  );
}

/** What a state means, in words a person reads. */
export function describeState(state: string): string {
  switch (state) {
    case "firing":
      return "Firing";
    case "pending":
      return "Pending: waiting for its `for` duration";
    case "unreachable":
      return "Unreachable: its server is offline, so it notifies nothing";
    case "resolved":
      return "Resolved";
    default:
      return state;
  }
}

/** Counts per state, for the page's summary line. */
export function countByState(alerts: readonly AlertLike[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const alert of alerts) counts[alert.state] = (counts[alert.state] ?? 0) + 1;
  return counts;
}
