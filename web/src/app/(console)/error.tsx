"use client";

// Catches rendering errors in pages so the top bar stays usable. API errors are
// shown by the components that made the call, not here.
export default function PageError({ error, retry }: { error: unknown; retry: () => void }) {
  const digest = error instanceof Error && "digest" in error ? String(error.digest) : undefined;
  return (
    <div role="alert" className="space-y-3">
      <h1 className="text-2xl font-semibold tracking-tight">This page failed to show</h1>
      <p className="text-ink-muted">
        {error instanceof Error ? error.message : "An unexpected error occurred."}
        {digest ? ` (reference ${digest})` : null}
      </p>
      <button
        type="button"
        onClick={retry}
        className="rounded-md border border-line bg-surface px-3 py-1.5 text-sm font-medium hover:bg-surface-muted"
      >
        Try again
      </button>
    </div>
  );
}
