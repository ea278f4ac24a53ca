"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { TemplateService, type TemplateVersion } from "@ocore/proto/gen/ocore/api/v1/template_service_pb.js";
import Link from "next/link";
import { useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { useCurrentUser } from "@/components/auth/current-user";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import {
  type DefinitionShape,
  definitionLines,
  definitionToDraft,
  lineDiff,
  reviewBlock,
} from "@/lib/templates";
import { StateBadge } from "./state-badge";
import { TemplateForm } from "./template-form";

const shape = (v: TemplateVersion | undefined) => v?.definition as DefinitionShape | undefined;

function VersionDiff({ before, after }: { before?: TemplateVersion; after: TemplateVersion }) {
  const afterShape = shape(after);
  if (!afterShape) return null;
  const beforeShape = shape(before);
  const diff = lineDiff(beforeShape ? definitionLines(beforeShape) : [], definitionLines(afterShape));
  return (
    <div className="space-y-1">
      <h3 className="text-sm font-medium">
        {before
          ? `Changes from v${before.version} to v${after.version}`
          : `v${after.version} (first version)`}
      </h3>
      <pre
        className="max-h-96 overflow-auto rounded-md border border-line bg-surface-muted p-2 font-mono text-xs"
        data-testid="version-diff"
      >
        {diff.map((line, i) => (
          <div
            // biome-ignore lint/suspicious/noArrayIndexKey: a diff's lines are positional
            key={i}
            className={
              line.kind === "added"
                ? "text-success"
                : line.kind === "removed"
                  ? "text-danger line-through"
                  : "text-ink-muted"
            }
            data-kind={line.kind}
          >
            {line.kind === "added" ? "+ " : line.kind === "removed" ? "- " : "  "}
            {line.text}
          </div>
        ))}
      </pre>
    </div>
  );
}

function ReviewPanel({ version, onDone }: { version: TemplateVersion; onDone: () => void }) {
  const user = useCurrentUser();
  const [note, setNote] = useState("");
  const approve = useMutation(TemplateService.method.approveVersion, { onSuccess: onDone });
  const reject = useMutation(TemplateService.method.rejectVersion, { onSuccess: onDone });
  if (version.reviewState !== "pending") {
    return (
      <p className="text-sm text-ink-muted" data-testid="review-outcome">
        {version.reviewState} by {version.reviewer}
        {version.reviewedAt ? ` on ${timestampDate(version.reviewedAt).toLocaleString()}` : ""}
        {version.reviewNote ? `: ${version.reviewNote}` : ""}
      </p>
    );
  }
  const blocked = reviewBlock(version, user.data?.user);
  const request = { versionId: version.id, hash: version.hash, note: note.trim() };
  return (
    <div className="space-y-2 rounded-md border border-line p-3" data-testid="review-panel">
      <p className="text-sm">
        Review v{version.version} (hash{" "}
        <code className="font-mono text-xs">{version.hash.slice(0, 16)}…</code>)
        {version.needsRoot ? <strong className="text-danger"> — runs as root</strong> : null}
      </p>
      {blocked ? (
        <p className="text-sm text-ink-muted" data-testid="review-blocked">
          {blocked}
        </p>
      ) : (
        <div className="flex flex-wrap items-end gap-2">
          <TextField
            label="Note"
            value={note}
            onChange={(e) => setNote(e.target.value)}
            className="min-w-64 flex-1"
            data-testid="review-note"
          />
          <Button
            variant="primary"
            aria-disabled={approve.isPending}
            onClick={() => approve.mutate(request)}
            data-testid="approve-version"
          >
            Approve
          </Button>
          <Button
            variant="danger"
            aria-disabled={reject.isPending}
            onClick={() => reject.mutate(request)}
            data-testid="reject-version"
          >
            Reject
          </Button>
        </div>
      )}
      {approve.error ? <ActionError error={approve.error} action="approve" /> : null}
      {reject.error ? <ActionError error={reject.error} action="reject" /> : null}
    </div>
  );
}

/** One template: its versions, the diff of the chosen one, its review, and a new version. */
export function TemplateDetail({ id }: { id: string }) {
  const query = useQuery(TemplateService.method.getTemplate, { id });
  const [chosen, setChosen] = useState<string | undefined>();
  const [editing, setEditing] = useState(false);
  if (query.error) {
    return (
      <ListError
        error={query.error}
        permission="templates.read"
        retrying={query.isFetching}
        onRetry={() => void query.refetch()}
        testId="template-error"
      />
    );
  }
  if (!query.data) return <ListSkeleton label="Loading the template…" />;
  const { template, versions } = query.data;
  const current = versions.find((v) => v.id === chosen) ?? versions[0];
  if (!template || !current) return null;
  const previous = versions.find((v) => v.version === current.version - 1);
  const d = current.definition;
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <Link href="/templates" className="text-sm text-accent hover:underline">
          ← Templates
        </Link>
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold tracking-tight" data-testid="template-title">
            {template.latest?.definition?.name}
          </h1>
          <StateBadge state={template.latest?.reviewState ?? ""} testId="template-review" />
          {template.approved ? (
            <Link
              href={`/templates/${template.id}/run`}
              className="ml-auto rounded-md border border-accent bg-accent px-3 py-1.5 text-sm font-medium text-accent-ink hover:opacity-90"
              data-testid="run-template"
            >
              Run v{template.approved.version}…
            </Link>
          ) : (
            <span className="ml-auto text-sm text-ink-muted">No approved version yet: it cannot run.</span>
          )}
        </div>
        <p className="text-sm text-ink-muted">
          {template.key} · {d?.type} · scope {d?.scope || "any host"} · {d?.interpreter} as {d?.runAs} ·
          timeout {d?.timeoutSeconds} s
        </p>
        <p>{d?.description}</p>
      </header>

      <section className="space-y-2">
        <h2 className="text-lg font-semibold">Versions</h2>
        <ul
          className="divide-y divide-line rounded-lg border border-line bg-surface"
          data-testid="version-list"
        >
          {versions.map((v) => (
            <li key={v.id} className="flex flex-wrap items-center gap-3 px-4 py-2" data-testid="version-row">
              <button
                type="button"
                className={`font-medium ${v.id === current.id ? "text-ink" : "text-accent hover:underline"}`}
                aria-current={v.id === current.id ? "true" : undefined}
                onClick={() => setChosen(v.id)}
              >
                v{v.version}
              </button>
              <StateBadge state={v.reviewState} testId="version-state" />
              <span className="text-xs text-ink-muted">
                by {v.author}
                {v.createdAt ? ` · ${timestampDate(v.createdAt).toLocaleString()}` : ""}
                {v.needsRoot ? " · root" : ""} · <code className="font-mono">{v.hash.slice(0, 12)}</code>
              </span>
            </li>
          ))}
        </ul>
        <ReviewPanel version={current} onDone={() => void query.refetch()} />
        <p className="text-xs text-ink-muted">
          Placeholders:{" "}
          {current.placeholders.length ? current.placeholders.map((p) => `{${p}}`).join(" ") : "none"}
        </p>
        <VersionDiff before={previous} after={current} />
      </section>

      <section className="space-y-2">
        {editing ? (
          <>
            <h2 className="text-lg font-semibold">New version (from v{versions[0]?.version})</h2>
            <TemplateForm
              templateId={template.id}
              initial={definitionToDraft(versions[0]?.definition as DefinitionShape)}
              onSaved={() => {
                setEditing(false);
                setChosen(undefined);
                void query.refetch();
              }}
            />
          </>
        ) : (
          <Button onClick={() => setEditing(true)} data-testid="edit-template">
            Edit as a new version
          </Button>
        )}
      </section>
    </div>
  );
}
