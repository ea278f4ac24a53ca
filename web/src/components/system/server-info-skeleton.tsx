import { SERVER_INFO_LABELS } from "./server-info-list";

/** Placeholder with the layout of ServerInfoList while GetInfo is loading. */
export function ServerInfoSkeleton() {
  return (
    <div
      role="status"
      aria-busy="true"
      data-testid="server-info-loading"
      className="rounded-lg border border-line bg-surface p-4 sm:p-6"
    >
      <span className="sr-only">Loading control server information…</span>
      <div aria-hidden="true" className="grid gap-x-8 gap-y-5 sm:grid-cols-2">
        {SERVER_INFO_LABELS.map((label) => (
          <div key={label} className="space-y-1.5">
            <div className="text-sm text-ink-muted">{label}</div>
            <div className="h-5 w-2/3 animate-pulse rounded bg-surface-muted motion-reduce:animate-none" />
          </div>
        ))}
      </div>
    </div>
  );
}
