"use client";

import { useMutation, useQuery } from "@connectrpc/connect-query";
import { RunService } from "@ocore/proto/gen/ocore/api/v1/run_service_pb.js";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import { errorFor, fieldErrorOf } from "@/lib/templates";
import { DEFAULT_ROLLOUT, type Rollout, RolloutFields, rolloutErrors } from "./rollout-fields";
import { ServerPicker } from "./server-picker";

const INPUT =
  "mt-1 block w-full rounded-md border border-line bg-surface px-2 py-1.5 aria-invalid:border-danger";

/** The script as last typed, once typing paused (the deny check is not sent per key). */
function useSettled(value: string, ms = 300): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/**
 * A one-off command that is not a template (decision 0231): needs commands.adhoc on every target,
 * runs in the same sandbox and with the same rate control, canary and waves as a template. The
 * deny list is checked as the script is typed, each match shown with why and what to do instead,
 * and every rule can be read before writing anything.
 */
export function AdhocForm({ serverIds = [] }: { serverIds?: readonly string[] }) {
  const router = useRouter();
  const [interpreter, setInterpreter] = useState("bash");
  const [script, setScript] = useState("");
  const [runAs, setRunAs] = useState("nobody");
  const [timeout, setTimeoutSeconds] = useState("300");
  const [selector, setSelector] = useState("");
  const [picked, setPicked] = useState<string[]>([...serverIds]);
  const [rollout, setRollout] = useState<Rollout>(DEFAULT_ROLLOUT);
  const settled = useSettled(script);
  const check = useQuery(RunService.method.checkAdhocCommand, { script: settled });
  const start = useMutation(RunService.method.startAdhocRun, {
    onSuccess: (r) => router.push(`/runs/${r.run?.id ?? ""}`),
  });
  const serverError = fieldErrorOf(start.error);
  const violations = check.data?.violations ?? [];
  const total = selector.trim() ? undefined : picked.length;
  const timeoutError = /^\d{1,5}$/.test(timeout.trim()) ? undefined : "must be a number of seconds";
  const blocked =
    !script.trim() ||
    violations.length > 0 ||
    (total !== undefined && total === 0) ||
    Boolean(timeoutError) ||
    Object.values(rolloutErrors(rollout, total)).some(Boolean);
  const scriptError =
    violations.length > 0 ? "refused by the deny list (see below)" : errorFor(serverError, "script");

  return (
    <form
      className="space-y-4 rounded-lg border border-line bg-surface p-4"
      data-testid="adhoc-form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        if (blocked || start.isPending) return;
        start.mutate({
          interpreter,
          script,
          runAs: runAs.trim(),
          timeoutSeconds: Number(timeout.trim()),
          targets: { serverIds: picked, selector: selector.trim() },
          maxConcurrency: rollout.maxConcurrency.trim(),
          maxErrors: rollout.maxErrors.trim(),
          canary: rollout.canary.trim(),
          canaryPause: rollout.canaryPause,
          waves: rollout.waves.trim(),
        });
      }}
    >
      <p className="text-sm text-ink-muted">
        Not a reviewed template: it needs the <code>commands.adhoc</code> permission on every target, runs in
        the same sandbox, and the audit log keeps the whole script. Use a template for anything you run twice.
      </p>
      <div className="grid gap-3 sm:grid-cols-3">
        <label className="block text-sm font-medium">
          Interpreter
          <select
            className={INPUT}
            value={interpreter}
            onChange={(e) => setInterpreter(e.target.value)}
            data-testid="adhoc-interpreter"
          >
            <option>bash</option>
            <option>sh</option>
            <option>python3</option>
          </select>
        </label>
        <TextField
          label="Run as (host user)"
          value={runAs}
          onChange={(e) => setRunAs(e.target.value)}
          error={errorFor(serverError, "runAs")}
          data-testid="adhoc-run-as"
        />
        <TextField
          label="Timeout (seconds)"
          value={timeout}
          inputMode="numeric"
          onChange={(e) => setTimeoutSeconds(e.target.value)}
          error={timeoutError ?? errorFor(serverError, "timeoutSeconds")}
          data-testid="adhoc-timeout"
        />
      </div>
      <label className="block text-sm font-medium">
        Script
        <textarea
          className={`${INPUT} min-h-32 font-mono text-sm`}
          value={script}
          onChange={(e) => setScript(e.target.value)}
          aria-invalid={scriptError ? true : undefined}
          spellCheck={false}
          data-testid="adhoc-script"
        />
        {scriptError ? <span className="block text-sm text-danger">{scriptError}</span> : null}
      </label>
      {violations.length > 0 ? (
        <ul
          className="space-y-2 rounded-md border border-danger-line bg-danger-surface p-3 text-sm"
          data-testid="adhoc-denied"
        >
          {violations.map((v) => (
            <li key={v.rule?.id} data-testid="adhoc-violation" data-rule={v.rule?.id}>
              <code className="font-mono">{v.excerpt}</code>: {v.rule?.why}.{" "}
              <span className="text-ink-muted">Instead: {v.rule?.instead}</span>
            </li>
          ))}
        </ul>
      ) : null}
      <details className="text-sm" data-testid="adhoc-rules">
        <summary className="cursor-pointer">
          What the deny list refuses, and why ({check.data?.rules.length ?? "…"} rules)
        </summary>
        <ul className="mt-2 space-y-1">
          {(check.data?.rules ?? []).map((r) => (
            <li key={r.id}>
              <code className="font-mono text-xs">{r.id}</code>: {r.why}
            </li>
          ))}
        </ul>
        <p className="mt-2 text-ink-muted">
          The list stops accidents, not a determined user: the permission, the sandbox and the audit log do.
        </p>
      </details>
      {check.error ? <ActionError error={check.error} action="check the script" /> : null}
      <div className="grid gap-3 sm:grid-cols-2">
        <TextField
          label="Servers matching (selector)"
          value={selector}
          onChange={(e) => setSelector(e.target.value)}
          placeholder="env=prod"
          error={errorFor(serverError, "targets")}
          data-testid="run-selector"
        />
        <ServerPicker picked={picked} onChange={setPicked} />
      </div>
      <RolloutFields value={rollout} onChange={setRollout} total={total} serverError={serverError} />
      <Button
        type="submit"
        variant="primary"
        aria-disabled={blocked || start.isPending}
        data-testid="start-adhoc"
      >
        Run{total ? ` on ${total} host${total === 1 ? "" : "s"}` : ""}
      </Button>
      {start.error ? <ActionError error={start.error} action="start the command" /> : null}
    </form>
  );
}
