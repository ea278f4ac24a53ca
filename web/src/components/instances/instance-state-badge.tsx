const TONE: Record<string, string> = {
  running: "bg-success",
  stopped: "bg-ink-muted",
  failed: "bg-danger",
  creating: "bg-accent animate-pulse motion-reduce:animate-none",
  restarting: "bg-accent animate-pulse motion-reduce:animate-none",
  removing: "bg-warning animate-pulse motion-reduce:animate-none",
};

/** An instance's state as a dot and its word. */
export function InstanceStateBadge({ state }: { state: string }) {
  return (
    <span
      data-testid="instance-state"
      className={`inline-flex items-center gap-1.5 rounded-full border px-2 py-0.5 text-xs font-medium whitespace-nowrap ${
        state === "failed" ? "border-danger-line bg-danger-surface text-danger" : "border-line bg-surface"
      }`}
    >
      <span aria-hidden="true" className={`size-2 rounded-full ${TONE[state] ?? "bg-ink-muted"}`} />
      {state ? state.charAt(0).toUpperCase() + state.slice(1) : "Unknown"}
    </span>
  );
}
