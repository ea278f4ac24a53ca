"use client";

import { useId } from "react";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import { describeServerStatus, SERVER_STATUSES } from "@/lib/server-status";

export type FleetFilterValues = { selector: string; status: string; search: string };

type FleetFiltersProps = {
  values: FleetFilterValues;
  /** The selector typed but not applied yet: it is sent to the server on Enter or Apply. */
  selectorDraft: string;
  onSelectorDraftChange: (draft: string) => void;
  onChange: (values: FleetFilterValues) => void;
  /** The server's reason for refusing the applied selector. */
  selectorError?: string;
};

/** Tag selector (sent to the server), status and name/host search (applied in the browser). */
export function FleetFilters(props: FleetFiltersProps) {
  const { values, selectorDraft, onChange, selectorError } = props;
  const statusId = useId();
  return (
    <div className="grid gap-3 sm:grid-cols-[minmax(0,2fr)_minmax(0,1fr)] lg:grid-cols-[minmax(0,2fr)_minmax(0,1fr)_minmax(0,1fr)] lg:items-start">
      <form
        className="flex items-start gap-2"
        onSubmit={(event) => {
          event.preventDefault();
          onChange({ ...values, selector: selectorDraft.trim() });
        }}
      >
        <TextField
          className="flex-1"
          label="Tag selector"
          name="selector"
          data-testid="selector-input"
          placeholder="e.g. env=prod,role in (web,worker)"
          spellCheck={false}
          autoCapitalize="none"
          value={selectorDraft}
          onChange={(event) => props.onSelectorDraftChange(event.target.value)}
          error={selectorError}
          hint={selectorError ? undefined : "Press Enter to apply."}
        />
        <Button type="submit" className="mt-6">
          Apply
        </Button>
      </form>
      <div className="space-y-1">
        <label htmlFor={statusId} className="block text-sm font-medium">
          Status
        </label>
        <select
          id={statusId}
          data-testid="status-filter"
          value={values.status}
          onChange={(event) => onChange({ ...values, status: event.target.value })}
          className="block h-9.5 w-full rounded-md border border-line bg-surface px-2 text-ink"
        >
          <option value="">All statuses</option>
          {SERVER_STATUSES.map((status) => (
            <option key={status} value={status}>
              {describeServerStatus(status).label}
            </option>
          ))}
        </select>
      </div>
      <TextField
        label="Search"
        type="search"
        name="search"
        data-testid="server-search"
        placeholder="Name or host"
        value={values.search}
        onChange={(event) => onChange({ ...values, search: event.target.value })}
      />
    </div>
  );
}
