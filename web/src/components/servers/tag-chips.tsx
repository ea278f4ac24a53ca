/** A server's tags as key=value chips, sorted by key so rows line up. */
export function TagChips({ tags }: { tags: Record<string, string> }) {
  const entries = Object.entries(tags).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <span className="text-sm text-ink-muted">No tags</span>;
  return (
    <ul aria-label="Tags" className="flex flex-wrap gap-1">
      {entries.map(([key, value]) => (
        <li
          key={key}
          className="rounded border border-line bg-surface-muted px-1.5 py-0.5 font-mono text-xs whitespace-nowrap"
        >
          {key}
          {value ? <span className="text-ink-muted">={value}</span> : null}
        </li>
      ))}
    </ul>
  );
}
