import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Server } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import type { ReactNode } from "react";
import { LastSeen } from "@/components/servers/last-seen";
import { TagChips } from "@/components/servers/tag-chips";
import { formatBytes } from "@/lib/chart-series";
import { formatTimestamp } from "@/lib/format";
import { formatRelativeTime } from "@/lib/relative-time";

const NOT_REPORTED = "Not reported yet";

/** What the agent reported about the host, and how to reach it. */
export function ServerFacts({ server, now }: { server: Server; now: Date }) {
  const facts = server.facts;
  const rows: [string, string, ReactNode][] = [
    [
      "Address",
      "fact-address",
      <code
        key="a"
        className="font-mono text-xs"
      >{`${server.sshUser}@${server.host}:${server.sshPort}`}</code>,
    ],
    ["Last seen", "fact-last-seen", <LastSeen key="l" at={server.lastSeenAt} now={now} />],
    ["Agent", "fact-agent", server.agentVersion || "Not connected yet"],
    ["Hostname", "fact-hostname", facts?.hostname || NOT_REPORTED],
    [
      "System",
      "fact-os",
      facts?.osId
        ? `${facts.osId} ${facts.osVersion} · ${facts.architecture} · kernel ${facts.kernel}`
        : NOT_REPORTED,
    ],
    [
      "CPU and memory",
      "fact-capacity",
      facts?.cpuCores
        ? `${facts.cpuCores} cores · ${formatBytes(Number(facts.memoryTotalBytes))}`
        : NOT_REPORTED,
    ],
    [
      "Booted",
      "fact-booted",
      facts?.bootedAt ? (
        <time
          key="b"
          dateTime={timestampDate(facts.bootedAt).toISOString()}
          title={formatTimestamp(facts.bootedAt)}
        >
          {formatRelativeTime(timestampDate(facts.bootedAt), now)}
        </time>
      ) : (
        NOT_REPORTED
      ),
    ],
    ["Added", "fact-created", server.createdAt ? formatTimestamp(server.createdAt) : NOT_REPORTED],
    ["Tags", "fact-tags", <TagChips key="t" tags={server.tags} />],
  ];
  return (
    <dl className="grid gap-x-6 gap-y-3 rounded-lg border border-line bg-surface p-4 text-sm sm:grid-cols-2 lg:grid-cols-3">
      {rows.map(([label, testId, value]) => (
        <div key={label} className="min-w-0">
          <dt className="text-xs font-medium tracking-wide text-ink-muted uppercase">{label}</dt>
          <dd className="mt-0.5 break-words" data-testid={testId}>
            {value}
          </dd>
        </div>
      ))}
    </dl>
  );
}
