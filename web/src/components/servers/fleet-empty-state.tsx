import { Button } from "@/components/ui/button";

/** What to do when the list is empty: add servers, or loosen the filters that hid them. */
export function FleetEmptyState({
  filtered,
  onClearFilters,
}: {
  filtered: boolean;
  onClearFilters: () => void;
}) {
  return (
    <div
      data-testid="fleet-empty"
      className="space-y-3 rounded-lg border border-dashed border-line bg-surface p-6 text-center"
    >
      {filtered ? (
        <>
          <p className="font-medium">No server matches these filters.</p>
          <Button onClick={onClearFilters}>Clear filters</Button>
        </>
      ) : (
        <>
          <p className="font-medium">No servers yet</p>
          <p className="text-sm text-ink-muted">
            Import them (<code className="font-mono">ServerService/ImportServers</code>, CSV or JSON) or add
            one once onboarding lands.
          </p>
        </>
      )}
    </div>
  );
}
