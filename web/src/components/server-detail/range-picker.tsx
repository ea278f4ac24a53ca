"use client";

import { type FormEvent, useState } from "react";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import { MAX_CUSTOM_MS, PRESET_LABELS, PRESET_RANGES, type TimeRange, toLocalInput } from "@/lib/time-range";

type RangePickerProps = {
  range: TimeRange;
  onChange: (range: TimeRange) => void;
};

/** 1 h / 24 h / 7 d, or a custom start and end (in the browser's time zone). */
export function RangePicker({ range, onChange }: RangePickerProps) {
  const [customOpen, setCustomOpen] = useState(range.kind === "custom");
  const [from, setFrom] = useState(() =>
    toLocalInput(range.kind === "custom" ? range.from : new Date(Date.now() - 6 * 3_600_000)),
  );
  const [to, setTo] = useState(() => toLocalInput(range.kind === "custom" ? range.to : new Date()));
  const [error, setError] = useState<string>();

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const start = new Date(from);
    const end = new Date(to);
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
      setError("Enter both a start and an end.");
    } else if (start >= end) {
      setError("The start must be before the end.");
    } else if (end.getTime() - start.getTime() > MAX_CUSTOM_MS) {
      setError("Choose at most 31 days.");
    } else {
      setError(undefined);
      onChange({ kind: "custom", from: start, to: end });
    }
  };

  const pill = (selected: boolean) =>
    `rounded-md px-3 py-1.5 text-sm font-medium ${
      selected ? "bg-accent text-accent-ink" : "text-ink-muted hover:bg-surface-muted hover:text-ink"
    }`;

  return (
    <div className="space-y-3">
      <fieldset className="flex flex-wrap items-center gap-1 rounded-lg border border-line bg-surface p-1">
        <legend className="sr-only">Time range</legend>
        {PRESET_RANGES.map((preset) => {
          const selected = range.kind === "preset" && range.preset === preset;
          return (
            <button
              key={preset}
              type="button"
              aria-pressed={selected}
              data-testid={`range-${preset}`}
              className={pill(selected)}
              onClick={() => {
                setCustomOpen(false);
                onChange({ kind: "preset", preset });
              }}
            >
              {PRESET_LABELS[preset]}
            </button>
          );
        })}
        <button
          type="button"
          aria-pressed={range.kind === "custom"}
          aria-expanded={customOpen}
          data-testid="range-custom"
          className={pill(range.kind === "custom")}
          onClick={() => setCustomOpen((open) => !open)}
        >
          Custom…
        </button>
      </fieldset>
      {customOpen ? (
        <form onSubmit={apply} className="flex flex-wrap items-start gap-3" data-testid="custom-range">
          <TextField
            label="From"
            type="datetime-local"
            value={from}
            onChange={(e) => setFrom(e.target.value)}
          />
          <TextField
            label="To"
            type="datetime-local"
            value={to}
            onChange={(e) => setTo(e.target.value)}
            error={error}
          />
          <Button type="submit" variant="primary" className="sm:mt-6">
            Show
          </Button>
        </form>
      ) : null}
    </div>
  );
}
