"use client";

import { useQuery } from "@connectrpc/connect-query";
import { InstanceService } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { useLiveFleet } from "@/components/servers/use-live-fleet";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import { instancesVersion, isTransitional } from "@/lib/instances";
import { sortedFleet } from "@/lib/live-fleet";
import { CreateInstanceForm } from "./create-instance-form";
import { InstanceActions } from "./instance-actions";
import { InstanceLinks } from "./instance-links";
import { InstanceStateBadge } from "./instance-state-badge";

const HEAD = "px-3 py-2 text-left text-xs font-medium tracking-wide text-ink-muted uppercase";
/** Instances per page: the server pages them (ListInstances), so a large fleet stays one request. */
const PAGE_SIZE = 50;

/**
 * The instances the caller may see, a page at a time (searched by instance or server name on the
 * server), with their ports as links and their actions. The list is read
 * again when the live feed says a server's instances changed (created, removed, or a state the
 * agent pushed, such as a container that died), and on every live batch while one is changing
 * (creating, restarting, removing): no timer of its own.
 */
export function InstancesPage() {
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  // The tokens of the pages before the current one, and the current one's ("" is the first page).
  const [pages, setPages] = useState<string[]>([""]);
  useEffect(() => {
    const timer = setTimeout(() => {
      setQuery(search.trim());
      setPages([""]);
    }, 250);
    return () => clearTimeout(timer);
  }, [search]);
  const instances = useQuery(InstanceService.method.listInstances, {
    query,
    pageSize: PAGE_SIZE,
    pageToken: pages.at(-1) ?? "",
  });
  const live = useLiveFleet();
  const servers = useMemo(() => (live.fleet ? sortedFleet(live.fleet) : []), [live.fleet]);
  const hosts = useMemo(() => new Map(servers.map((entry) => [entry.server?.id, entry.server])), [servers]);
  const changing = instances.data?.instances.some((instance) => isTransitional(instance.state)) ?? false;
  const version = live.fleet ? instancesVersion(live.fleet.values()) : "";
  // biome-ignore lint/correctness/useExhaustiveDependencies: a live batch is the trigger
  useEffect(() => {
    if (changing) void instances.refetch();
  }, [live.receivedAt]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: news of the servers' instances is the trigger
  useEffect(() => {
    if (version) void instances.refetch();
  }, [version]);
  const refetch = () => void instances.refetch();

  return (
    <div className="space-y-4">
      {live.fleet ? <CreateInstanceForm servers={servers} onCreated={refetch} /> : null}
      <div className="flex flex-wrap items-end gap-3">
        <TextField
          label="Search"
          type="search"
          name="instance-search"
          data-testid="instance-search"
          placeholder="Instance or server name"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
        {instances.data ? (
          <p className="pb-2 text-sm text-ink-muted" data-testid="instance-total">
            {instances.data.totalSize} {instances.data.totalSize === 1 ? "instance" : "instances"}
            {instances.data.totalSize > PAGE_SIZE ? `, page ${pages.length}` : ""}
          </p>
        ) : null}
      </div>
      {instances.error ? (
        <ListError
          error={instances.error}
          permission="instances.read"
          retrying={instances.isFetching}
          onRetry={refetch}
          testId="instances-error"
        />
      ) : !instances.data ? (
        <ListSkeleton label="Loading instances…" testId="instances-loading" />
      ) : instances.data.instances.length === 0 && query ? (
        <p className="text-sm text-ink-muted" data-testid="instances-none-match">
          No instance matches “{query}”.
        </p>
      ) : instances.data.instances.length === 0 ? (
        <p
          className="rounded-lg border border-dashed border-line bg-surface p-6 text-center text-sm text-ink-muted"
          data-testid="instances-empty"
        >
          No instances yet. Create one above: oCore starts Odoo, PostgreSQL and Mailpit on the server and
          gives it a block of ports.
        </p>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-line bg-surface">
          <table className="w-full text-sm" data-testid="instance-table">
            <thead className="border-b border-line bg-surface-muted">
              <tr>
                <th scope="col" className={HEAD}>
                  Instance
                </th>
                <th scope="col" className={`${HEAD} hidden sm:table-cell`}>
                  Server
                </th>
                <th scope="col" className={HEAD}>
                  State
                </th>
                <th scope="col" className={`${HEAD} hidden md:table-cell`}>
                  Open
                </th>
                <th scope="col" className={HEAD}>
                  Actions
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {instances.data.instances.map((instance) => {
                const server = hosts.get(instance.serverId);
                return (
                  <tr key={instance.id} data-testid="instance-row" className="align-top">
                    <th scope="row" className="px-3 py-2.5 text-left font-medium">
                      <Link
                        href={`/instances/${instance.id}`}
                        className="text-accent hover:underline"
                        data-testid="instance-link"
                      >
                        {instance.name}
                      </Link>
                      <span className="block text-xs font-normal text-ink-muted">{instance.edition}</span>
                    </th>
                    <td className="hidden px-3 py-2.5 sm:table-cell">{server?.name ?? "—"}</td>
                    <td className="px-3 py-2.5">
                      <InstanceStateBadge state={instance.state} />
                      {instance.stateMessage ? (
                        <p
                          className={`mt-1 max-w-64 text-xs ${instance.state === "failed" ? "text-danger" : "text-ink-muted"}`}
                        >
                          {instance.stateMessage}
                        </p>
                      ) : null}
                    </td>
                    <td className="hidden px-3 py-2.5 md:table-cell">
                      <InstanceLinks instance={instance} host={server?.host ?? ""} />
                    </td>
                    <td className="px-3 py-2.5">
                      <InstanceActions instance={instance} onChanged={refetch} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {pages.length > 1 || instances.data.nextPageToken ? (
            <div className="flex justify-end gap-2 border-t border-line p-2">
              <Button
                disabled={pages.length <= 1}
                onClick={() => setPages(pages.slice(0, -1))}
                data-testid="instances-previous"
              >
                Previous
              </Button>
              <Button
                disabled={!instances.data.nextPageToken}
                onClick={() => setPages([...pages, instances.data?.nextPageToken ?? ""])}
                data-testid="instances-next"
              >
                Next
              </Button>
            </div>
          ) : null}
        </div>
      )}
    </div>
  );
}
