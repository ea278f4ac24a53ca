"use client";

import type { ConnectError } from "@connectrpc/connect";
import { useMutation } from "@connectrpc/connect-query";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { type FormEvent, useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import { parseTagInput } from "@/lib/tag-input";

/** The fleet page's filter, as the server resolves it for "all matching". */
export interface MatchingFilter {
  readonly query: string;
  readonly statuses: string[];
  readonly selector: string;
}

const plural = (n: number) => `${n.toLocaleString("en")} ${n === 1 ? "server" : "servers"}`;

/**
 * "Select all N matching" (or the rows ticked) and a tag change for them: for all matching, the
 * filter goes to the server, not the ids on screen, so it reaches servers on every page. A dry run
 * counts the servers the caller may change; the change is applied with that count, and the server
 * refuses it if more match by then. Keyed by the filter and the ticked rows in the parent, so a
 * new target starts over.
 */
export function FleetBulkTags({
  filter: matching,
  total,
  picked,
  onClearPicked,
}: {
  filter: MatchingFilter;
  total: number;
  picked: readonly string[];
  onClearPicked: () => void;
}) {
  // Ticked rows are the target as they are: they were chosen by hand, whatever the filter says now.
  const filter = picked.length > 0 ? { query: "", statuses: [], selector: "", ids: [...picked] } : matching;
  const size = picked.length > 0 ? picked.length : total;
  const [open, setOpen] = useState(false);
  const [setText, setSetText] = useState("");
  const [removeText, setRemoveText] = useState("");
  const [inputError, setInputError] = useState<string>();
  const count = useMutation(ServerService.method.updateMatchingServers);
  const apply = useMutation(ServerService.method.updateMatchingServers);

  if (!open) {
    return picked.length > 0 ? (
      <div className="flex flex-wrap items-center gap-3">
        <Button data-testid="change-picked" onClick={() => setOpen(true)}>
          Change {picked.length.toLocaleString("en")} selected
        </Button>
        <Button data-testid="clear-picked" onClick={onClearPicked}>
          Clear selection
        </Button>
      </div>
    ) : (
      <Button data-testid="select-all-matching" onClick={() => setOpen(true)}>
        Select all {plural(total)} matching
      </Button>
    );
  }
  const change = () => {
    const parsed = parseTagInput(setText);
    if ("error" in parsed) return { error: parsed.error };
    const removeTags = removeText
      .split(/[,;\s]+/)
      .map((key) => key.trim())
      .filter(Boolean);
    if (Object.keys(parsed.tags).length === 0 && removeTags.length === 0)
      return { error: "Give tags to add or keys to remove." };
    return { setTags: parsed.tags, removeTags };
  };
  const review = (event: FormEvent) => {
    event.preventDefault();
    const checked = change();
    setInputError(checked.error);
    apply.reset();
    if (!checked.error) count.mutate({ filter, dryRun: true });
  };
  const matched = count.data?.matched;
  const done = apply.data;
  const failure = (count.error ?? apply.error) as ConnectError | null;

  return (
    <section
      aria-label="Change all matching servers"
      className="space-y-3 rounded-md border border-line p-3"
      data-testid="bulk-panel"
    >
      <p className="text-sm">
        <span className="font-medium">{plural(total)} selected</span>: every server matching the current
        filters, on every page.
      </p>
      <form className="flex flex-wrap items-end gap-3" onSubmit={review}>
        <TextField
          label="Add or change tags"
          placeholder="tier=gold, owner=ops"
          value={setText}
          onChange={(event) => {
            setSetText(event.target.value);
            count.reset();
          }}
          data-testid="bulk-set-tags"
        />
        <TextField
          label="Remove tag keys"
          placeholder="legacy, canary"
          value={removeText}
          onChange={(event) => {
            setRemoveText(event.target.value);
            count.reset();
          }}
          data-testid="bulk-remove-tags"
        />
        <Button type="submit" aria-disabled={count.isPending || undefined} data-testid="bulk-review">
          Review
        </Button>
        <Button onClick={() => setOpen(false)} data-testid="bulk-cancel">
          Cancel
        </Button>
      </form>
      {inputError ? (
        <p role="alert" className="text-sm text-danger">
          {inputError}
        </p>
      ) : null}
      {failure ? <ActionError error={failure} action="change the servers" testId="bulk-error" /> : null}
      {matched !== undefined && !done ? (
        <div className="flex flex-wrap items-center gap-3">
          {matched === 0 ? (
            <p className="text-sm" data-testid="bulk-none">
              None of these servers is yours to change.
            </p>
          ) : (
            <Button
              variant="primary"
              data-testid="bulk-apply"
              aria-disabled={apply.isPending || undefined}
              onClick={() => {
                const checked = change();
                if (checked.error || apply.isPending) return setInputError(checked.error);
                apply.mutate({ filter, ...checked, expectedCount: matched });
              }}
            >
              {apply.isPending ? "Applying…" : `Apply to ${plural(matched)}`}
            </Button>
          )}
          {matched !== size ? (
            <p className="text-sm text-ink-muted">
              Your roles let you change {plural(matched)} of the {plural(size)} selected.
            </p>
          ) : null}
        </div>
      ) : null}
      {done ? (
        <p aria-live="polite" className="text-sm" data-testid="bulk-done">
          Updated {plural(done.updated)}
          {done.unchanged > 0 ? `; ${plural(done.unchanged)} already had these tags` : ""}
          {done.skippedOutOfScope > 0
            ? `; ${plural(done.skippedOutOfScope)} skipped (the change would take them out of your reach)`
            : ""}
          {done.skippedTooManyTags > 0 ? `; ${plural(done.skippedTooManyTags)} skipped (over 50 tags)` : ""}.
        </p>
      ) : null}
    </section>
  );
}
