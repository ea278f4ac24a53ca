"use client";

import { useMutation } from "@connectrpc/connect-query";
import { TemplateService } from "@ocore/proto/gen/ocore/api/v1/template_service_pb.js";
import { useRouter } from "next/navigation";
import { type FormEvent, type ReactNode, useId, useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import {
  type DefinitionDraft,
  draftToDefinition,
  emptyDraft,
  errorFor,
  fieldErrorOf,
  INTERPRETERS,
  TEMPLATE_TYPES,
} from "@/lib/templates";
import { ParameterEditor } from "./parameter-editor";

const INPUT =
  "mt-1 block w-full rounded-md border border-line bg-surface px-2 py-1.5 aria-invalid:border-danger";

function Area({
  label,
  value,
  onChange,
  error,
  hint,
  rows = 3,
  mono,
  testId,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  hint?: ReactNode;
  rows?: number;
  mono?: boolean;
  testId?: string;
}) {
  const id = useId();
  const note = error ?? hint;
  return (
    <div className="space-y-1 sm:col-span-2">
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <textarea
        id={id}
        rows={rows}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={note ? `${id}-note` : undefined}
        className={`${INPUT} ${mono ? "font-mono text-sm" : ""}`}
        data-testid={testId}
        spellCheck={false}
      />
      {note ? (
        <p
          id={`${id}-note`}
          className={`text-sm ${error ? "text-danger" : "text-ink-muted"}`}
          data-testid={error ? "field-error" : undefined}
        >
          {note}
        </p>
      ) : null}
    </div>
  );
}

/**
 * Creates a template (with its key) or stores a changed definition as its next version. Either
 * way the result is pending review; the server's validation error is shown at the field it names.
 */
export function TemplateForm({
  templateId,
  initial,
  onSaved,
}: {
  templateId?: string;
  initial?: DefinitionDraft;
  /** Called instead of opening the template's page (when already on it). */
  onSaved?: () => void;
}) {
  const router = useRouter();
  const [key, setKey] = useState("");
  const [draft, setDraft] = useState<DefinitionDraft>(initial ?? emptyDraft());
  const set = (patch: Partial<DefinitionDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const done = (id: string) => (onSaved ? onSaved() : router.push(`/templates/${id}`));
  const create = useMutation(TemplateService.method.createTemplate, {
    onSuccess: (r) => done(r.template?.id ?? ""),
  });
  const update = useMutation(TemplateService.method.updateTemplate, {
    onSuccess: (r) => done(r.template?.id ?? ""),
  });
  const mutation = templateId ? update : create;
  const fieldError = fieldErrorOf(mutation.error);
  const err = (field: string) => errorFor(fieldError, field);
  const shownInline = fieldError !== undefined;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const definition = draftToDefinition(draft);
    if (templateId) update.mutate({ id: templateId, definition });
    else create.mutate({ key: key.trim(), definition });
  };
  return (
    <form
      onSubmit={submit}
      className="grid gap-3 rounded-lg border border-line bg-surface p-4 sm:grid-cols-2"
      data-testid="template-form"
      noValidate
    >
      {templateId ? null : (
        <TextField
          label="Key (stable identifier)"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder="disk-report"
          error={errorFor(fieldError, "key")}
          data-testid="template-key"
        />
      )}
      <TextField
        label="Name (placeholders allowed)"
        value={draft.name}
        onChange={(e) => set({ name: e.target.value })}
        placeholder="disk report for {arch}"
        error={err("name")}
        data-testid="template-name-input"
      />
      <label className="block text-sm font-medium">
        Type
        <select className={INPUT} value={draft.type} onChange={(e) => set({ type: e.target.value })}>
          {TEMPLATE_TYPES.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </label>
      <TextField
        label="Scope (tag selector; empty: any host)"
        value={draft.scope}
        onChange={(e) => set({ scope: e.target.value })}
        placeholder="env=prod"
        error={err("scope")}
      />
      <Area
        label="Description"
        value={draft.description}
        onChange={(v) => set({ description: v })}
        error={err("description")}
        rows={2}
      />
      <label className="block text-sm font-medium">
        Interpreter
        <select
          className={INPUT}
          value={draft.interpreter}
          onChange={(e) => set({ interpreter: e.target.value })}
        >
          {INTERPRETERS.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </label>
      <TextField
        label="Run as (user; root is shown to reviewers)"
        value={draft.runAs}
        onChange={(e) => set({ runAs: e.target.value })}
        error={err("runAs")}
        data-testid="template-run-as"
      />
      <Area
        label="Script (run unchanged: read values from $1… or $OCORE_PARAM_<NAME>, never spliced in)"
        value={draft.script}
        onChange={(v) => set({ script: v })}
        error={err("script")}
        rows={8}
        mono
        testId="template-script"
      />
      <Area
        label="Arguments ($1, $2, …), one a line"
        value={draft.argv}
        onChange={(v) => set({ argv: v })}
        error={err("argv")}
        hint="Placeholders such as {arch}, {hostname}, {tag.env} or {parameter} are filled per host."
        mono
        testId="template-argv"
      />
      <Area
        label="Environment (NAME=value), one a line"
        value={draft.env}
        onChange={(v) => set({ env: v })}
        error={err("env")}
        mono
        testId="template-env"
      />
      <TextField
        label="Timeout (seconds)"
        inputMode="numeric"
        value={draft.timeoutSeconds}
        onChange={(e) => set({ timeoutSeconds: e.target.value })}
        error={err("timeoutSeconds")}
        data-testid="template-timeout"
      />
      <TextField
        label="Memory max (MB, 0: none)"
        inputMode="numeric"
        value={draft.memoryMaxMb}
        onChange={(e) => set({ memoryMaxMb: e.target.value })}
        error={err("memoryMaxMb")}
      />
      <TextField
        label="CPU quota (%, 0: none)"
        inputMode="numeric"
        value={draft.cpuQuotaPercent}
        onChange={(e) => set({ cpuQuotaPercent: e.target.value })}
        error={err("cpuQuotaPercent")}
      />
      <TextField
        label="Tasks max (0: none)"
        inputMode="numeric"
        value={draft.tasksMax}
        onChange={(e) => set({ tasksMax: e.target.value })}
        error={err("tasksMax")}
      />
      <Area
        label="Write paths (absolute), one a line"
        value={draft.writePaths}
        onChange={(v) => set({ writePaths: v })}
        error={err("writePaths")}
        mono
      />
      <Area
        label="Annotated examples, one a line: title | name=value, … | note"
        value={draft.examples}
        onChange={(v) => set({ examples: v })}
        error={err("examples")}
        mono
      />
      <div className="sm:col-span-2">
        <ParameterEditor
          value={draft.parameters}
          onChange={(parameters) => set({ parameters })}
          errorAt={(i) => err(`parameters.${i}`)}
        />
      </div>
      <div className="flex items-center gap-3 sm:col-span-2">
        <Button
          type="submit"
          variant="primary"
          aria-disabled={mutation.isPending}
          data-testid="save-template"
        >
          {templateId ? "Save as new version" : "Create template"}
        </Button>
        <span className="text-sm text-ink-muted">It runs only after a second person approves it.</span>
      </div>
      {mutation.error ? (
        <div className="sm:col-span-2">
          <ActionError
            error={mutation.error}
            action={templateId ? "save the version" : "create the template"}
            testId={shownInline ? "form-error" : "action-error"}
          />
        </div>
      ) : null}
    </form>
  );
}
