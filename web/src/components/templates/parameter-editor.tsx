"use client";

import { Button } from "@/components/ui/button";
import { emptyParameter, PARAMETER_TYPES, type ParameterDraft } from "@/lib/templates";

const INPUT =
  "mt-1 block w-full rounded-md border border-line bg-surface px-2 py-1 text-sm aria-invalid:border-danger";

/** The typed parameters of a draft: one row each, with the fields its type uses. */
export function ParameterEditor({
  value,
  onChange,
  errorAt,
}: {
  value: ParameterDraft[];
  onChange: (next: ParameterDraft[]) => void;
  /** The server's message for `parameters.<i>` (any of its fields), if it named one. */
  errorAt: (index: number) => string | undefined;
}) {
  const set = (index: number, patch: Partial<ParameterDraft>) =>
    onChange(value.map((p, i) => (i === index ? { ...p, ...patch } : p)));
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium">Parameters</legend>
      {value.map((p, i) => {
        const error = errorAt(i);
        return (
          <div
            key={p.rowId}
            className="grid gap-2 rounded-md border border-line p-2 sm:grid-cols-6"
            data-testid="parameter-row"
          >
            <label className="text-xs">
              Name
              <input
                className={INPUT}
                aria-invalid={error ? true : undefined}
                value={p.name}
                onChange={(e) => set(i, { name: e.target.value })}
                data-testid="parameter-name"
              />
            </label>
            <label className="text-xs">
              Type
              <select
                className={INPUT}
                value={p.type}
                onChange={(e) => set(i, { type: e.target.value })}
                data-testid="parameter-type"
              >
                {PARAMETER_TYPES.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </label>
            <label className="text-xs sm:col-span-2">
              Description
              <input
                className={INPUT}
                value={p.description}
                onChange={(e) => set(i, { description: e.target.value })}
              />
            </label>
            <label className="text-xs">
              Default
              <input
                className={INPUT}
                value={p.defaultValue}
                onChange={(e) => set(i, { defaultValue: e.target.value })}
                data-testid="parameter-default"
              />
            </label>
            <label className="flex items-end gap-1 text-xs">
              <input
                type="checkbox"
                checked={p.required}
                onChange={(e) => set(i, { required: e.target.checked })}
              />
              Required
            </label>
            {p.type === "string" ? (
              <label className="text-xs sm:col-span-3">
                Pattern (whole value)
                <input
                  className={INPUT}
                  value={p.pattern}
                  onChange={(e) => set(i, { pattern: e.target.value })}
                  data-testid="parameter-pattern"
                />
              </label>
            ) : null}
            {p.type === "enum" ? (
              <label className="text-xs sm:col-span-3">
                Allowed values (comma-separated)
                <input
                  className={INPUT}
                  value={p.allowedValues}
                  onChange={(e) => set(i, { allowedValues: e.target.value })}
                />
              </label>
            ) : null}
            {p.type === "integer" ? (
              <>
                <label className="text-xs">
                  Min
                  <input className={INPUT} value={p.min} onChange={(e) => set(i, { min: e.target.value })} />
                </label>
                <label className="text-xs">
                  Max
                  <input className={INPUT} value={p.max} onChange={(e) => set(i, { max: e.target.value })} />
                </label>
              </>
            ) : null}
            {p.type === "list" ? (
              <label className="text-xs">
                Values from
                <select
                  className={INPUT}
                  value={p.listSource}
                  onChange={(e) => set(i, { listSource: e.target.value })}
                >
                  <option value="">choose…</option>
                  <option value="instances">instances</option>
                  <option value="ports">ports</option>
                </select>
              </label>
            ) : null}
            {p.type === "boolean" ? (
              <label className="flex items-end gap-1 text-xs">
                <input
                  type="checkbox"
                  checked={p.confirm}
                  onChange={(e) => set(i, { confirm: e.target.checked })}
                />
                Must be confirmed
              </label>
            ) : null}
            <div className="flex items-end sm:col-start-6">
              <Button onClick={() => onChange(value.filter((_, j) => j !== i))}>Remove</Button>
            </div>
            {error ? (
              <p role="alert" className="text-sm text-danger sm:col-span-6" data-testid="parameter-error">
                {error}
              </p>
            ) : null}
          </div>
        );
      })}
      <Button onClick={() => onChange([...value, emptyParameter()])} data-testid="add-parameter">
        Add parameter
      </Button>
    </fieldset>
  );
}
