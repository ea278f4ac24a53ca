"use client";

import { useQuery } from "@connectrpc/connect-query";
import { TemplateService } from "@ocore/proto/gen/ocore/api/v1/template_service_pb.js";
import Link from "next/link";
import { useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { withServers } from "@/lib/run-targets";
import { TEMPLATE_TYPES } from "@/lib/templates";
import { StateBadge } from "./state-badge";

const SELECT = "mt-1 block w-full rounded-md border border-line bg-surface px-2 py-1.5";

/**
 * The template library as cards, searchable and filtered by type. With `serverIds` (the fleet's
 * "Run on these") each card's Run link keeps those servers picked.
 */
export function TemplateList({ serverIds = [] }: { serverIds?: readonly string[] }) {
  const [query, setQuery] = useState("");
  const [type, setType] = useState("");
  const list = useQuery(TemplateService.method.listTemplates, { query: query.trim() });
  const templates = (list.data?.templates ?? []).filter((t) => !type || t.latest?.definition?.type === type);
  return (
    <div className="space-y-4">
      {serverIds.length ? (
        <p
          className="rounded-md border border-line bg-surface-muted px-3 py-2 text-sm"
          data-testid="template-pick-for"
        >
          Pick a template to run on the {serverIds.length} server{serverIds.length === 1 ? "" : "s"} you
          selected.
        </p>
      ) : null}
      <div className="flex flex-wrap items-end gap-3">
        <label className="block min-w-48 flex-1 text-sm font-medium">
          Search
          <input
            className={SELECT}
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder="name, description or type"
            data-testid="template-search"
          />
        </label>
        <label className="block text-sm font-medium">
          Type
          <select
            className={SELECT}
            value={type}
            onChange={(e) => setType(e.target.value)}
            data-testid="template-type-filter"
          >
            <option value="">All types</option>
            {TEMPLATE_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <Link
          href="/templates/new"
          className="rounded-md border border-accent bg-accent px-3 py-1.5 text-sm font-medium text-accent-ink hover:opacity-90"
          data-testid="new-template"
        >
          New template
        </Link>
      </div>
      {list.error ? (
        <ListError
          error={list.error}
          permission="templates.read"
          retrying={list.isFetching}
          onRetry={() => void list.refetch()}
          testId="templates-error"
        />
      ) : !list.data ? (
        <ListSkeleton label="Loading templates…" testId="templates-loading" />
      ) : templates.length === 0 ? (
        <p
          className="rounded-lg border border-line bg-surface p-4 text-sm text-ink-muted"
          data-testid="templates-empty"
        >
          No template matches.
        </p>
      ) : (
        <ul className="grid gap-3 sm:grid-cols-2" data-testid="template-list">
          {templates.map((t) => {
            const d = t.latest?.definition;
            const latest = t.latest;
            return (
              <li
                key={t.id}
                className="space-y-2 rounded-lg border border-line bg-surface p-4"
                data-testid="template-card"
              >
                <div className="flex items-start gap-2">
                  <Link
                    href={`/templates/${t.id}`}
                    className="font-medium text-accent hover:underline"
                    data-testid="template-name"
                  >
                    {d?.name}
                  </Link>
                  {t.builtin ? <span className="text-xs text-ink-muted">built-in</span> : null}
                  <span className="ml-auto">
                    <StateBadge state={latest?.reviewState ?? ""} testId="template-review" />
                  </span>
                </div>
                <p className="text-xs text-ink-muted">
                  {d?.type} · scope {d?.scope || "any host"} · v{latest?.version}
                  {t.approved && t.approved.version !== latest?.version
                    ? ` (v${t.approved.version} approved)`
                    : ""}
                  {latest?.needsRoot ? " · runs as root" : ""}
                </p>
                <p className="text-sm">{d?.description}</p>
                {d?.examples.length ? (
                  <ul className="space-y-1 text-xs">
                    {d.examples.map((e) => (
                      <li key={e.title}>
                        <span className="font-medium">{e.title}</span>{" "}
                        <code className="font-mono">
                          {Object.entries(e.parameters)
                            .map(([k, v]) => `${k}=${v}`)
                            .join(" ")}
                        </code>
                        {e.note ? <span className="text-ink-muted"> — {e.note}</span> : null}
                      </li>
                    ))}
                  </ul>
                ) : null}
                {t.approved ? (
                  <Link
                    href={withServers(`/templates/${t.id}/run`, serverIds) as `/templates/${string}/run`}
                    className="text-sm text-accent hover:underline"
                    data-testid="template-run-link"
                  >
                    Run…
                  </Link>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
