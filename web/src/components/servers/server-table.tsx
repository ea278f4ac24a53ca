import type { FleetServer } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import Link from "next/link";
import { formatStatusReason } from "@/lib/server-status";
import { LastSeen } from "./last-seen";
import { ServerStatusBadge } from "./server-status-badge";
import { TagChips } from "./tag-chips";
import { UsageGlance } from "./usage-glance";

const HEAD = "px-3 py-2 text-left text-xs font-medium tracking-wide text-ink-muted uppercase";

/**
 * The servers, one row each; at phone width host and tags move under the name. With `selected`
 * each row has a box to pick it (for "Run on these" and the bulk tag change).
 */
export function ServerTable({
  entries,
  now,
  selected,
  onToggle,
}: {
  entries: readonly FleetServer[];
  now: Date;
  selected?: ReadonlySet<string>;
  onToggle?: (serverId: string, on: boolean) => void;
}) {
  return (
    <div className="overflow-x-auto rounded-lg border border-line bg-surface">
      <table className="w-full text-sm" data-testid="server-table">
        <thead className="border-b border-line bg-surface-muted">
          <tr>
            {selected ? (
              <th scope="col" className={`${HEAD} w-8`}>
                <span className="sr-only">Select</span>
              </th>
            ) : null}
            <th scope="col" className={HEAD}>
              Name
            </th>
            <th scope="col" className={`${HEAD} hidden sm:table-cell`}>
              Host
            </th>
            <th scope="col" className={HEAD}>
              Status
            </th>
            <th scope="col" className={`${HEAD} hidden lg:table-cell`}>
              Usage
            </th>
            <th scope="col" className={`${HEAD} hidden md:table-cell`}>
              Tags
            </th>
            <th scope="col" className={`${HEAD} hidden sm:table-cell`}>
              Last seen
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-line">
          {entries.map(({ server, latest }) =>
            server ? (
              <tr key={server.id} data-testid="server-row" className="align-top">
                {selected ? (
                  <td className="px-3 py-2.5">
                    <input
                      type="checkbox"
                      aria-label={`Select ${server.name}`}
                      checked={selected.has(server.id)}
                      onChange={(e) => onToggle?.(server.id, e.target.checked)}
                      data-testid="server-select"
                    />
                  </td>
                ) : null}
                <th scope="row" className="px-3 py-2.5 text-left font-medium">
                  <Link
                    href={`/servers/${server.id}`}
                    className="rounded-sm text-accent hover:underline"
                    data-testid="server-name"
                  >
                    {server.name}
                  </Link>
                  <span className="mt-0.5 block font-mono text-xs font-normal text-ink-muted sm:hidden">
                    {server.sshUser}@{server.host}:{server.sshPort}
                  </span>
                  <div className="mt-1.5 font-normal md:hidden">
                    <TagChips tags={server.tags} />
                  </div>
                </th>
                <td className="hidden px-3 py-2.5 font-mono text-xs sm:table-cell">
                  {server.sshUser}@{server.host}:{server.sshPort}
                </td>
                <td className="px-3 py-2.5">
                  <ServerStatusBadge status={server.status} />
                  {server.provisioning &&
                  (server.provisioning.state === "running" || server.provisioning.state === "pending") ? (
                    <p className="mt-1 text-xs text-ink-muted" data-testid="provisioning-step-summary">
                      {server.provisioning.kind === "remove" ? "Removing" : "Provisioning"}:{" "}
                      {server.provisioning.step.replaceAll("_", " ")}
                    </p>
                  ) : null}
                  {server.status === "failed" && (server.statusReason || server.statusMessage) ? (
                    <p className="mt-1 max-w-64 text-xs text-danger">
                      {server.statusReason ? (
                        <span className="font-medium">{formatStatusReason(server.statusReason)}: </span>
                      ) : null}
                      {server.statusMessage}
                    </p>
                  ) : server.statusMessage ? (
                    <p className="mt-1 max-w-64 text-xs text-ink-muted">{server.statusMessage}</p>
                  ) : null}
                  <span className="mt-1 block text-xs text-ink-muted sm:hidden">
                    Last seen: <LastSeen at={server.lastSeenAt} now={now} />
                  </span>
                </td>
                <td className="hidden px-3 py-2.5 lg:table-cell">
                  <UsageGlance latest={latest} />
                </td>
                <td className="hidden px-3 py-2.5 md:table-cell">
                  <TagChips tags={server.tags} />
                </td>
                <td className="hidden px-3 py-2.5 sm:table-cell">
                  <LastSeen at={server.lastSeenAt} now={now} />
                </td>
              </tr>
            ) : null,
          )}
        </tbody>
      </table>
    </div>
  );
}
