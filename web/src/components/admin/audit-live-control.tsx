import type { AuditFollowState } from "./use-audit-follow";

const LABELS: Record<AuditFollowState, { text: string; title: string; dot: string }> = {
  waiting: { text: "Connecting…", title: "Following starts once the log is read.", dot: "bg-ink-muted" },
  live: { text: "Live", title: "New entries appear as they are written.", dot: "bg-success" },
  paused: {
    text: "Paused",
    title: "New entries are held back; resume to show them.",
    dot: "bg-ink-muted",
  },
  reconnecting: {
    text: "Reconnecting…",
    title: "The connection dropped; new entries appear once it is back.",
    dot: "animate-pulse bg-warning motion-reduce:animate-none",
  },
  failed: { text: "Not live", title: "Following was refused; reload the page.", dot: "bg-danger" },
};

/** Says whether new entries appear by themselves, with a toggle to hold them while reading. */
export function AuditLiveControl({
  state,
  paused,
  onToggle,
}: {
  state: AuditFollowState;
  paused: boolean;
  onToggle: () => void;
}) {
  const label = LABELS[state];
  return (
    <div className="flex items-center gap-3">
      <span
        data-testid="audit-live"
        data-state={state}
        role="status"
        className="inline-flex items-center gap-1.5 text-xs text-ink-muted"
        title={label.title}
      >
        <span aria-hidden="true" className={`size-2 rounded-full ${label.dot}`} />
        {label.text}
      </span>
      <button
        type="button"
        onClick={onToggle}
        aria-pressed={paused}
        data-testid="audit-pause"
        className="rounded-md border border-line bg-surface px-2 py-1 text-xs font-medium hover:bg-surface-muted"
      >
        {paused ? "Resume" : "Pause"}
      </button>
    </div>
  );
}
