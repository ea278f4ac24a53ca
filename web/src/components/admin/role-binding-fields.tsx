"use client";

import type { Role } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import { useId } from "react";
import { TextField } from "@/components/ui/text-field";

export type BindingDraft = { role: string; selector: string };

/** A role select and an optional tag selector that limits the role to matching servers. */
export function RoleBindingFields({
  roles,
  value,
  onChange,
  selectorError,
}: {
  roles: readonly Role[];
  value: BindingDraft;
  onChange: (value: BindingDraft) => void;
  selectorError?: string;
}) {
  const roleId = useId();
  return (
    <>
      <div className="space-y-1">
        <label htmlFor={roleId} className="block text-sm font-medium">
          Role
        </label>
        <select
          id={roleId}
          value={value.role}
          onChange={(event) => onChange({ ...value, role: event.target.value })}
          className="block h-9.5 w-full rounded-md border border-line bg-surface px-2 text-ink"
          data-testid="binding-role"
        >
          {roles.map((role) => (
            <option key={role.name} value={role.name}>
              {role.name}
            </option>
          ))}
        </select>
      </div>
      <TextField
        label="Only on servers matching (optional)"
        placeholder="e.g. env=staging"
        spellCheck={false}
        autoCapitalize="none"
        value={value.selector}
        onChange={(event) => onChange({ ...value, selector: event.target.value })}
        hint="A tag selector; empty grants the role on every server."
        error={selectorError}
        data-testid="binding-selector"
      />
    </>
  );
}

/** A binding as people read it: "operator" or "operator on env=prod". */
export function BindingChip({ role, selector, onRemove }: BindingDraft & { onRemove?: () => void }) {
  return (
    <li className="inline-flex items-center gap-1 rounded border border-line bg-surface-muted px-1.5 py-0.5 text-xs whitespace-nowrap">
      <span className="font-medium">{role}</span>
      {selector ? <span className="font-mono text-ink-muted">on {selector}</span> : null}
      {onRemove ? (
        <button
          type="button"
          onClick={onRemove}
          className="ml-1 rounded px-1 text-ink-muted hover:bg-surface hover:text-danger"
          aria-label={`Remove ${role}${selector ? ` on ${selector}` : ""}`}
        >
          ×
        </button>
      ) : null}
    </li>
  );
}
