"use client";

import Link from "next/link";
import { Button } from "@/components/ui/button";
import { withServers } from "@/lib/run-targets";

/**
 * The fleet's selected servers and what can be run on them: a template (the library, then its run
 * form with these servers picked) or an ad-hoc command. Selection is for this page of servers.
 */
export function RunOnSelection({ selected, onClear }: { selected: readonly string[]; onClear: () => void }) {
  if (selected.length === 0) return null;
  return (
    <div
      className="flex flex-wrap items-center gap-3 rounded-lg border border-line bg-surface-muted px-3 py-2 text-sm"
      data-testid="fleet-selection"
    >
      <span data-testid="fleet-selection-count">
        {selected.length} server{selected.length === 1 ? "" : "s"} selected
      </span>
      <Link
        href={withServers("/templates", selected) as "/templates"}
        className="font-medium text-accent hover:underline"
        data-testid="run-template-on-selection"
      >
        Run a template on these
      </Link>
      <Link
        href={withServers("/runs/adhoc", selected) as "/runs/adhoc"}
        className="font-medium text-accent hover:underline"
        data-testid="run-adhoc-on-selection"
      >
        Run a command on these
      </Link>
      <Button className="ml-auto" onClick={onClear} data-testid="fleet-selection-clear">
        Clear
      </Button>
    </div>
  );
}
