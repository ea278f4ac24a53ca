"use client";

import { useMutation, useQuery } from "@connectrpc/connect-query";
import { RunService } from "@ocore/proto/gen/ocore/api/v1/run_service_pb.js";
import { TemplateService } from "@ocore/proto/gen/ocore/api/v1/template_service_pb.js";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import { checkParameterValue, parameterInput } from "@/lib/template-runs";
import { errorFor, fieldErrorOf } from "@/lib/templates";
import { DEFAULT_ROLLOUT, type Rollout, RolloutFields, rolloutErrors } from "./rollout-fields";
import { ServerPicker } from "./server-picker";

const INPUT =
  "mt-1 block w-full rounded-md border border-line bg-surface px-2 py-1.5 aria-invalid:border-danger";

/**
 * Running an approved template: typed parameters, targets (servers picked from the fleet and/or a
 * selector), a preview of exactly what each host will run (argv and environment), then the start
 * with its concurrency, error budget, canary and waves.
 */
export function RunForm({
  templateId,
  serverIds = [],
}: {
  templateId: string;
  /** Servers picked beforehand (the fleet's "Run on these"). */
  serverIds?: readonly string[];
}) {
  const router = useRouter();
  const template = useQuery(TemplateService.method.getTemplate, { id: templateId });
  const [values, setValues] = useState<Record<string, string>>({});
  const [selector, setSelector] = useState("");
  const [picked, setPicked] = useState<string[]>([...serverIds]);
  const [rollout, setRollout] = useState<Rollout>(DEFAULT_ROLLOUT);
  const preview = useMutation(TemplateService.method.previewRun);
  const start = useMutation(RunService.method.startRun, {
    onSuccess: (r) => router.push(`/runs/${r.run?.id ?? ""}`),
  });

  if (template.error) {
    return (
      <ListError
        error={template.error}
        permission="templates.read"
        retrying={template.isFetching}
        onRetry={() => void template.refetch()}
      />
    );
  }
  const approved = template.data?.template?.approved;
  if (!template.data) return <ListSkeleton label="Loading the template…" />;
  if (!approved) {
    return (
      <p className="text-sm" data-testid="run-not-approved">
        This template has no approved version yet; it runs once a second person approved it.
      </p>
    );
  }
  const parameters = approved.definition?.parameters ?? [];
  const currentValue = (name: string) =>
    values[name] ?? parameters.find((p) => p.name === name)?.defaultValue ?? "";
  const request = {
    templateId,
    versionId: approved.id,
    parameters: Object.fromEntries(
      parameters.map((p) => [p.name, currentValue(p.name)]).filter(([, v]) => v !== ""),
    ),
    targets: { serverIds: picked, selector: selector.trim() },
  };
  const listOptions = (preview.data?.hosts ?? []).filter((h) => !h.refusedReason).map((h) => h.listOptions);
  const localErrors = Object.fromEntries(
    parameters.map((p) => [p.name, checkParameterValue(p, currentValue(p.name))]),
  );
  const serverError = fieldErrorOf(preview.error ?? start.error);
  const runnable = (preview.data?.hosts ?? []).filter((h) => !h.refusedReason).length;
  const rolloutInvalid = Object.values(rolloutErrors(rollout, runnable)).some(Boolean);
  const doPreview = (event?: FormEvent) => {
    event?.preventDefault();
    preview.mutate(request);
  };
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <Link href={`/templates/${templateId}`} className="text-sm text-accent hover:underline">
          ← {approved.definition?.name}
        </Link>
        <h1 className="text-2xl font-semibold tracking-tight">Run {approved.definition?.name}</h1>
        <p className="text-sm text-ink-muted">
          v{approved.version}, approved by {approved.reviewer} · hash{" "}
          <code className="font-mono">{approved.hash.slice(0, 16)}…</code>
          {approved.needsRoot ? " · runs as root" : ""}
        </p>
      </header>

      <form
        onSubmit={doPreview}
        className="grid gap-3 rounded-lg border border-line bg-surface p-4 sm:grid-cols-2"
        data-testid="run-form"
        noValidate
      >
        <fieldset className="space-y-2 sm:col-span-2">
          <legend className="text-sm font-medium">Parameters</legend>
          {parameters.length === 0 ? (
            <p className="text-sm text-ink-muted">This template has no parameters.</p>
          ) : null}
          {parameters.map((p) => {
            const input = parameterInput(p, listOptions);
            const error = localErrors[p.name] ?? errorFor(serverError, `parameters.${p.name}`);
            const label = `${p.name}${p.required ? " (required)" : ""} — ${p.description}`;
            const set = (v: string) => {
              preview.reset();
              setValues((all) => ({ ...all, [p.name]: v }));
            };
            if (input.kind === "checkbox") {
              return (
                <label key={p.name} className="flex items-center gap-2 text-sm">
                  <input
                    type="checkbox"
                    checked={currentValue(p.name) === "true"}
                    onChange={(e) => set(e.target.checked ? "true" : "false")}
                    data-testid={`param-${p.name}`}
                  />
                  {label}
                  {p.confirm ? <strong className="text-danger"> (confirm to run)</strong> : null}
                </label>
              );
            }
            if (input.kind === "select") {
              return (
                <label key={p.name} className="block text-sm font-medium">
                  {label}
                  <select
                    className={INPUT}
                    value={currentValue(p.name)}
                    onChange={(e) => set(e.target.value)}
                    aria-invalid={error ? true : undefined}
                    data-testid={`param-${p.name}`}
                  >
                    <option value="">choose…</option>
                    {input.options.map((o) => (
                      <option key={o}>{o}</option>
                    ))}
                  </select>
                  {error ? <span className="block text-sm text-danger">{error}</span> : null}
                </label>
              );
            }
            return (
              <TextField
                key={p.name}
                label={label}
                value={currentValue(p.name)}
                onChange={(e) => set(e.target.value)}
                inputMode={input.kind === "number" ? "numeric" : undefined}
                hint={
                  input.kind === "number"
                    ? `a whole number from ${input.min} to ${input.max}`
                    : input.kind === "text" && input.pattern
                      ? `must match ${input.pattern}`
                      : p.type === "list"
                        ? "preview first to pick from the host's values"
                        : undefined
                }
                error={error}
                data-testid={`param-${p.name}`}
              />
            );
          })}
        </fieldset>
        <TextField
          label="Servers matching (selector)"
          value={selector}
          onChange={(e) => {
            preview.reset();
            setSelector(e.target.value);
          }}
          placeholder="env=prod"
          error={errorFor(serverError, "targets")}
          data-testid="run-selector"
        />
        <ServerPicker
          picked={picked}
          onChange={(next) => {
            preview.reset();
            setPicked(next);
          }}
        />
        <div className="sm:col-span-2">
          <Button type="submit" aria-disabled={preview.isPending} data-testid="preview-run">
            Preview
          </Button>
        </div>
        {preview.error ? (
          <div className="sm:col-span-2">
            <ActionError error={preview.error} action="preview the run" />
          </div>
        ) : null}
      </form>

      {preview.data ? (
        <section className="space-y-3" data-testid="run-preview">
          <h2 className="text-lg font-semibold">Exactly what runs, per host</h2>
          <ul className="space-y-2">
            {preview.data.hosts.map((h) => (
              <li
                key={h.serverId}
                className="space-y-1 rounded-lg border border-line bg-surface p-3"
                data-testid="preview-host"
              >
                <p className="font-medium">
                  {h.serverName}
                  {h.refusedReason ? (
                    <span className="ml-2 text-sm text-danger" data-testid="preview-refused">
                      refused: {h.refusedReason}
                    </span>
                  ) : (
                    <span className="ml-2 text-sm text-ink-muted">{h.title}</span>
                  )}
                </p>
                {h.refusedReason ? null : (
                  <>
                    <ol className="space-y-0.5 font-mono text-xs" data-testid="preview-argv">
                      {h.command.map((arg, i) => (
                        // biome-ignore lint/suspicious/noArrayIndexKey: argv is positional
                        <li key={i} className="whitespace-pre-wrap break-all">
                          <span className="text-ink-muted">argv[{i}]</span>{" "}
                          {i === 2 ? (
                            <details className="inline">
                              <summary className="inline cursor-pointer">script ({arg.length} chars)</summary>
                              <pre className="mt-1 rounded bg-surface-muted p-2">{arg}</pre>
                            </details>
                          ) : (
                            JSON.stringify(arg)
                          )}
                        </li>
                      ))}
                    </ol>
                    <ul className="font-mono text-xs" data-testid="preview-env">
                      {Object.entries(h.env)
                        .sort(([a], [b]) => a.localeCompare(b))
                        .map(([k, v]) => (
                          <li key={k} className="break-all">
                            {k}={JSON.stringify(v)}
                          </li>
                        ))}
                    </ul>
                  </>
                )}
              </li>
            ))}
          </ul>
          <div className="space-y-3 rounded-lg border border-line bg-surface p-4">
            <RolloutFields value={rollout} onChange={setRollout} total={runnable} serverError={serverError} />
            <Button
              variant="primary"
              aria-disabled={start.isPending || runnable === 0}
              onClick={() => {
                if (runnable === 0 || rolloutInvalid) return;
                start.mutate({
                  ...request,
                  maxConcurrency: rollout.maxConcurrency.trim(),
                  maxErrors: rollout.maxErrors.trim(),
                  canary: rollout.canary.trim(),
                  canaryPause: rollout.canaryPause,
                  waves: rollout.waves.trim(),
                });
              }}
              data-testid="start-run"
            >
              Start on {runnable} host{runnable === 1 ? "" : "s"}
            </Button>
          </div>
          {start.error ? <ActionError error={start.error} action="start the run" /> : null}
        </section>
      ) : null}
    </div>
  );
}
