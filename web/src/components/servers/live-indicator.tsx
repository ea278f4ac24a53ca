/** Whether the page is following live changes, or waiting to reconnect. */
export function LiveIndicator({ live }: { live: boolean }) {
  return (
    <span
      data-testid="live-indicator"
      data-live={live}
      className="inline-flex items-center gap-1.5 text-xs text-ink-muted"
      title={live ? "Changes appear as they happen." : "Reconnecting; the data shown may be out of date."}
    >
      <span
        aria-hidden="true"
        className={`size-2 rounded-full ${live ? "bg-success" : "animate-pulse bg-warning motion-reduce:animate-none"}`}
      />
      {live ? "Live" : "Reconnecting…"}
    </span>
  );
}
