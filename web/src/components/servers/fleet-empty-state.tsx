import Link from "next/link";
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
            Add one with{" "}
            <Link href="/servers/new" className="text-accent underline">
              Add server
            </Link>{" "}
            (oCore connects over SSH and installs its agent), or import many at once (
            <code className="font-mono">ServerService/ImportServers</code>, CSV or JSON).
          </p>
        </>
      )}
    </div>
  );
}
