"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQuery } from "@connectrpc/connect-query";
import { InstanceService } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import Link from "next/link";
import { useEffect, useMemo } from "react";
import { ListError } from "@/components/admin/query-state";
import { useLiveFleet } from "@/components/servers/use-live-fleet";
import { formatBytes } from "@/lib/chart-series";
import { instancesVersion, isTransitional } from "@/lib/instances";
import { formatRelativeTime } from "@/lib/relative-time";
import { InstanceActions } from "./instance-actions";
import { InstanceBackupSchedule } from "./instance-backup-schedule";
import { InstanceBackups } from "./instance-backups";
import { InstanceHealth } from "./instance-health";
import { InstanceLinks } from "./instance-links";
import { InstanceLogs } from "./instance-logs";
import { InstanceStateBadge } from "./instance-state-badge";

/** One instance: state, links, actions, health checks, live logs and backups. */
export function InstanceDetail({ id }: { id: string }) {
  const query = useQuery(InstanceService.method.getInstance, { id });
  const instance = query.data?.instance;
  const serverIds = useMemo(() => (instance ? [instance.serverId] : []), [instance]);
  const live = useLiveFleet({ serverIds });
  const server = instance ? live.fleet?.get(instance.serverId)?.server : undefined;
  const changing = instance ? isTransitional(instance.state) : false;
  const version = live.fleet ? instancesVersion(live.fleet.values()) : "";
  // biome-ignore lint/correctness/useExhaustiveDependencies: news from the server is the trigger
  useEffect(() => {
    if (changing) void query.refetch();
  }, [live.receivedAt]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: news of the server's instances is the trigger
  useEffect(() => {
    if (version) void query.refetch();
  }, [version]);
  const refetch = () => void query.refetch();
  const back = (
    <Link href="/instances" className="rounded-sm text-sm text-accent hover:underline">
      ← All instances
    </Link>
  );

  if (query.error) {
    return (
      <div className="space-y-4">
        {back}
        <ListError
          error={query.error}
          permission="instances.read"
          retrying={query.isFetching}
          onRetry={refetch}
          testId="instance-error"
        />
      </div>
    );
  }
  if (!instance) {
    return (
      <div role="status" aria-busy="true" className="space-y-4" data-testid="instance-loading">
        <span className="sr-only">Loading the instance…</span>
        <div
          aria-hidden="true"
          className="h-8 w-1/3 animate-pulse rounded bg-surface-muted motion-reduce:animate-none"
        />
      </div>
    );
  }
  const facts: [string, string][] = [
    ["Server", server?.name ?? instance.serverId],
    ["Edition", instance.edition],
    ["Odoo image", instance.odooImage],
    ["Workers", instance.workers === 0 ? "threaded" : String(instance.workers)],
    ["Memory limit", instance.memoryBytes > 0n ? formatBytes(Number(instance.memoryBytes)) : "none"],
    ["Updated", instance.updatedAt ? formatRelativeTime(timestampDate(instance.updatedAt), new Date()) : "—"],
  ];
  return (
    <div className="space-y-6">
      <header className="space-y-2">
        {back}
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold tracking-tight" data-testid="instance-title">
            {instance.name}
          </h1>
          <InstanceStateBadge state={instance.state} />
        </div>
        {instance.stateMessage ? (
          <p className={`text-sm ${instance.state === "failed" ? "text-danger" : "text-ink-muted"}`}>
            {instance.stateMessage}
          </p>
        ) : null}
        <InstanceLinks instance={instance} host={server?.host ?? ""} />
      </header>
      <InstanceActions instance={instance} onChanged={refetch} />
      <dl className="grid gap-x-6 gap-y-3 rounded-lg border border-line bg-surface p-4 text-sm sm:grid-cols-2 lg:grid-cols-3">
        {facts.map(([label, value]) => (
          <div key={label} className="min-w-0">
            <dt className="text-xs font-medium tracking-wide text-ink-muted uppercase">{label}</dt>
            <dd className="mt-0.5 break-words">{value}</dd>
          </div>
        ))}
      </dl>
      <InstanceHealth serverId={instance.serverId} name={instance.name} />
      <InstanceLogs instanceId={instance.id} />
      <InstanceBackups instanceId={instance.id} onRestored={refetch} />
      <InstanceBackupSchedule instanceId={instance.id} />
    </div>
  );
}
