/** Placeholder rows while the fleet is loading. */
export function FleetSkeleton() {
  return (
    <div
      role="status"
      aria-busy="true"
      data-testid="fleet-loading"
      className="rounded-lg border border-line bg-surface"
    >
      <span className="sr-only">Loading servers…</span>
      <div aria-hidden="true" className="divide-y divide-line">
        {[0, 1, 2].map((row) => (
          <div key={row} className="flex items-center gap-4 px-3 py-3">
            <div className="h-4 w-1/4 animate-pulse rounded bg-surface-muted motion-reduce:animate-none" />
            <div className="h-4 w-1/5 animate-pulse rounded bg-surface-muted motion-reduce:animate-none" />
            <div className="h-4 w-16 animate-pulse rounded-full bg-surface-muted motion-reduce:animate-none" />
          </div>
        ))}
      </div>
    </div>
  );
}
