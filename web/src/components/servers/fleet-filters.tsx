"use client";

import { useEffect, useId, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import { FLEET_SORTS, type FleetView } from "@/lib/fleet-url";
import { describeServerStatus, SERVER_STATUSES } from "@/lib/server-status";

/** A search is sent once typing pauses this long. */
const SEARCH_PAUSE_MS = 200;

type FleetFiltersProps = {
  values: FleetView;
  /** The selector typed but not applied yet: it is sent to the server on Enter or Apply. */
  selectorDraft: string;
  onSelectorDraftChange: (draft: string) => void;
  onChange: (values: Partial<FleetView>) => void;
  /** The server's reason for refusing the applied selector. */
  selectorError?: string;
};

const SELECT = "block h-9.5 w-full rounded-md border border-line bg-surface px-2 text-ink";

/** Tag selector, status, name/host search and sort: all applied by the server. */
export function FleetFilters(props: FleetFiltersProps) {
  const { values, selectorDraft, onChange, selectorError } = props;
  const statusId = useId();
  const sortId = useId();
  const [search, setSearch] = useState(values.search);
  useEffect(() => setSearch(values.search), [values.search]);
  const latestOnChange = useRef(onChange);
  latestOnChange.current = onChange;
  useEffect(() => {
    if (search === values.search) return;
    const timer = setTimeout(() => latestOnChange.current({ search }), SEARCH_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [search, values.search]);
  // Any other change also applies the search as typed: a pending search must not land later on
  // top of it (with the filters it was typed under).
  const change = (next: Partial<FleetView>) => onChange({ search, ...next });

  return (
    <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-[minmax(0,2fr)_minmax(0,1fr)_minmax(0,1fr)_minmax(0,1fr)] lg:items-start">
      <form
        className="flex items-start gap-2"
        onSubmit={(event) => {
          event.preventDefault();
          change({ selector: selectorDraft.trim() });
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
          onChange={(event) => change({ status: event.target.value })}
          className={SELECT}
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
        value={search}
        onChange={(event) => setSearch(event.target.value)}
      />
      <div className="space-y-1">
        <label htmlFor={sortId} className="block text-sm font-medium">
          Sort by
        </label>
        <select
          id={sortId}
          data-testid="fleet-sort"
          value={values.sort}
          onChange={(event) => change({ sort: event.target.value })}
          className={SELECT}
        >
          {FLEET_SORTS.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}
