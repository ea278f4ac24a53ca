"use client";

import { useMutation, useQuery } from "@connectrpc/connect-query";
import { AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { type FormEvent, useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";

const SELECT = "mt-1 block w-full rounded-md border border-line bg-surface px-2 py-1.5";

function CreateRuleForm({ metrics, onCreated }: { metrics: readonly string[]; onCreated: () => void }) {
  const [name, setName] = useState("");
  const [metric, setMetric] = useState("cpu_percent");
  const [selector, setSelector] = useState("");
  const [comparison, setComparison] = useState(">");
  const [threshold, setThreshold] = useState("90");
  const [forSeconds, setForSeconds] = useState("300");
  const [severity, setSeverity] = useState("warning");
  const create = useMutation(AlertService.method.createRule, {
    onSuccess: () => {
      setName("");
      onCreated();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({
      name: name.trim(),
      metric,
      selector: selector.trim(),
      comparison,
      threshold: Number(threshold),
      forSeconds: Number(forSeconds),
      keepFiringForSeconds: 0,
      severity,
      description: "",
    });
  };
  return (
    <form
      onSubmit={submit}
      className="grid gap-3 rounded-lg border border-line bg-surface p-4 sm:grid-cols-4"
      data-testid="create-rule-form"
    >
      <TextField
        label="Name"
        required
        value={name}
        onChange={(e) => setName(e.target.value)}
        data-testid="rule-name"
      />
      <label className="block text-sm font-medium">
        Metric
        <select className={SELECT} value={metric} onChange={(e) => setMetric(e.target.value)}>
          {metrics.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
      </label>
      <label className="block text-sm font-medium">
        Fires when
        <select className={SELECT} value={comparison} onChange={(e) => setComparison(e.target.value)}>
          {[">", ">=", "<", "<="].map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </label>
      <TextField
        label="Threshold"
        type="number"
        step="any"
        required
        value={threshold}
        onChange={(e) => setThreshold(e.target.value)}
      />
      <TextField
        label="For (seconds)"
        type="number"
        min={0}
        required
        value={forSeconds}
        onChange={(e) => setForSeconds(e.target.value)}
      />
      <TextField
        label="Servers matching (selector)"
        value={selector}
        onChange={(e) => setSelector(e.target.value)}
        placeholder="env=prod"
      />
      <label className="block text-sm font-medium">
        Severity
        <select className={SELECT} value={severity} onChange={(e) => setSeverity(e.target.value)}>
          <option>warning</option>
          <option>critical</option>
        </select>
      </label>
      <div className="self-end">
        <Button type="submit" variant="primary" aria-disabled={create.isPending} data-testid="create-rule">
          Add rule
        </Button>
      </div>
      {create.error ? (
        <div className="sm:col-span-4">
          <ActionError error={create.error} action="add the rule" />
        </div>
      ) : null}
    </form>
  );
}

/** User rules on stored metrics (the built-in agent and disk rules are set by the server's settings). */
export function RulesPage() {
  const rules = useQuery(AlertService.method.listRules, {});
  const remove = useMutation(AlertService.method.deleteRule, { onSuccess: () => void rules.refetch() });
  const refetch = () => void rules.refetch();
  return (
    <div className="space-y-4">
      <p className="text-ink-muted">
        Built-in rules (agent offline, disk used per mount) always run; add your own on any stored metric.
      </p>
      <CreateRuleForm metrics={rules.data?.metrics ?? []} onCreated={refetch} />
      {rules.error ? (
        <ListError
          error={rules.error}
          permission="alerts.read"
          retrying={rules.isFetching}
          onRetry={refetch}
          testId="rules-error"
        />
      ) : !rules.data ? (
        <ListSkeleton label="Loading rules…" testId="rules-loading" />
      ) : (
        <ul className="divide-y divide-line rounded-lg border border-line bg-surface" data-testid="rule-list">
          {rules.data.rules.map((rule) => (
            <li key={rule.id} className="flex flex-wrap items-center gap-3 px-4 py-3" data-testid="rule-row">
              <span className="font-medium">{rule.name}</span>
              <span className="text-xs text-ink-muted">
                {rule.metric} {rule.comparison} {rule.threshold} for {rule.forSeconds} s · {rule.severity}
                {rule.selector ? ` · ${rule.selector}` : ""}
              </span>
              <Button variant="danger" className="ml-auto" onClick={() => remove.mutate({ id: rule.id })}>
                Delete
              </Button>
            </li>
          ))}
        </ul>
      )}
      {remove.error ? <ActionError error={remove.error} action="delete the rule" /> : null}
    </div>
  );
}
