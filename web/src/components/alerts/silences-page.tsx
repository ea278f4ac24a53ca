"use client";

import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { AlertService, type Silence } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { type FormEvent, useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import { formatTimestamp } from "@/lib/format";

function CreateSilenceForm({ onCreated }: { onCreated: () => void }) {
  const [kind, setKind] = useState("silence");
  const [ruleKey, setRuleKey] = useState("");
  const [selector, setSelector] = useState("");
  const [startsIn, setStartsIn] = useState("0");
  const [hours, setHours] = useState("2");
  const [comment, setComment] = useState("");
  const create = useMutation(AlertService.method.createSilence, {
    onSuccess: () => {
      setComment("");
      onCreated();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const start = new Date(Date.now() + Number(startsIn) * 3_600_000);
    create.mutate({
      kind,
      ruleKey: kind === "maintenance" ? "" : ruleKey,
      selector: selector.trim(),
      startsAt: Number(startsIn) > 0 ? timestampFromDate(start) : undefined,
      endsAt: timestampFromDate(new Date(start.getTime() + Number(hours) * 3_600_000)),
      comment: comment.trim(),
    });
  };
  return (
    <form
      onSubmit={submit}
      className="grid gap-3 rounded-lg border border-line bg-surface p-4 sm:grid-cols-3"
      data-testid="create-silence-form"
    >
      <label className="block text-sm font-medium">
        Kind
        <select
          className="mt-1 block w-full rounded-md border border-line bg-surface px-2 py-1.5"
          value={kind}
          onChange={(e) => setKind(e.target.value)}
          data-testid="silence-kind"
        >
          <option value="silence">silence (rule and/or servers)</option>
          <option value="maintenance">maintenance window (servers)</option>
        </select>
      </label>
      {kind === "silence" ? (
        <label className="block text-sm font-medium">
          Rule
          <select
            className="mt-1 block w-full rounded-md border border-line bg-surface px-2 py-1.5"
            value={ruleKey}
            onChange={(e) => setRuleKey(e.target.value)}
          >
            <option value="">any rule</option>
            <option value="builtin:agent_offline">Agent offline</option>
            <option value="builtin:disk_used">Disk used</option>
          </select>
        </label>
      ) : null}
      <TextField
        label="Servers matching (selector)"
        value={selector}
        onChange={(e) => setSelector(e.target.value)}
        placeholder="env=prod"
        data-testid="silence-selector"
      />
      <TextField
        label="Starts in (hours)"
        type="number"
        min={0}
        step="any"
        value={startsIn}
        onChange={(e) => setStartsIn(e.target.value)}
      />
      <TextField
        label="Lasts (hours)"
        type="number"
        min={0.1}
        step="any"
        required
        value={hours}
        onChange={(e) => setHours(e.target.value)}
      />
      <TextField
        label="Why"
        required
        value={comment}
        onChange={(e) => setComment(e.target.value)}
        placeholder="e.g. kernel upgrade, ticket #42"
        data-testid="silence-comment"
      />
      <div className="sm:col-span-3">
        <Button type="submit" variant="primary" aria-disabled={create.isPending} data-testid="create-silence">
          {create.isPending ? "Adding…" : kind === "maintenance" ? "Schedule maintenance" : "Add silence"}
        </Button>
      </div>
      {create.error ? (
        <div className="sm:col-span-3">
          <ActionError error={create.error} action="add the silence" />
        </div>
      ) : null}
    </form>
  );
}

function SilenceRow({ silence, onEnded }: { silence: Silence; onEnded: () => void }) {
  const end = useMutation(AlertService.method.endSilence, { onSuccess: onEnded });
  const matchers = [silence.ruleKey, silence.serverId && `server ${silence.serverId}`, silence.selector]
    .filter(Boolean)
    .join(", ");
  return (
    <li className="flex flex-wrap items-center gap-3 px-4 py-3" data-testid="silence-row">
      <span className="rounded bg-surface-muted px-2 py-0.5 text-xs">{silence.kind}</span>
      <span className="font-medium">{matchers}</span>
      <span className="text-xs text-ink-muted">
        {silence.startsAt ? formatTimestamp(silence.startsAt) : ""} →{" "}
        {silence.endsAt ? formatTimestamp(silence.endsAt) : ""} · {silence.comment} · by {silence.createdBy}
      </span>
      <Button className="ml-auto" onClick={() => end.mutate({ id: silence.id })} data-testid="silence-end">
        End now
      </Button>
      {end.error ? <ActionError error={end.error} action="end the silence" /> : null}
    </li>
  );
}

/** Silences and maintenance windows: muted alerts are neither sent nor repeated while they hold. */
export function SilencesPage() {
  const silences = useQuery(AlertService.method.listSilences, {});
  const refetch = () => void silences.refetch();
  return (
    <div className="space-y-4">
      <p className="text-ink-muted">
        Alerts a silence or maintenance window covers are not sent; they are sent once it ends if they still
        fire.
      </p>
      <CreateSilenceForm onCreated={refetch} />
      {silences.error ? (
        <ListError
          error={silences.error}
          permission="alerts.read"
          retrying={silences.isFetching}
          onRetry={refetch}
          testId="silences-error"
        />
      ) : !silences.data ? (
        <ListSkeleton label="Loading silences…" testId="silences-loading" />
      ) : silences.data.silences.length === 0 ? (
        <p className="text-sm text-ink-muted" data-testid="silences-empty">
          No silence or maintenance window now.
        </p>
      ) : (
        <ul
          className="divide-y divide-line rounded-lg border border-line bg-surface"
          data-testid="silence-list"
        >
          {silences.data.silences.map((silence) => (
            <SilenceRow key={silence.id} silence={silence} onEnded={refetch} />
          ))}
        </ul>
      )}
    </div>
  );
}
