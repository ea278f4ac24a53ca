import { describeServerStatus, SERVER_STATUSES } from "@/lib/server-status";

/** Servers per status for the current filter (from the server's counts); a click filters by it. */
export function FleetStatusCounts({
  counts,
  selected,
  onSelect,
}: {
  counts: { [status: string]: number };
  selected: string;
  onSelect: (status: string) => void;
}) {
  const shown = SERVER_STATUSES.filter((status) => (counts[status] ?? 0) > 0 || status === selected);
  if (shown.length === 0) return null;
  return (
    <ul className="flex flex-wrap gap-2" aria-label="Servers per status" data-testid="status-counts">
      {shown.map((status) => {
        const active = status === selected;
        return (
          <li key={status}>
            <button
              type="button"
              aria-pressed={active}
              data-testid={`status-count-${status}`}
              onClick={() => onSelect(active ? "" : status)}
              className={`rounded-full border px-3 py-1 text-sm ${
                active
                  ? "border-accent bg-accent text-accent-ink"
                  : "border-line bg-surface hover:bg-surface-muted"
              }`}
            >
              {describeServerStatus(status).label}{" "}
              <span className="font-semibold tabular-nums">{(counts[status] ?? 0).toLocaleString("en")}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
