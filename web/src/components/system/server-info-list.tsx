import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { GetInfoResponse } from "@ocore/proto/gen/ocore/api/v1/system_service_pb.js";
import type { ReactNode } from "react";
import { formatDatabaseKind, formatDuration, formatTimestamp } from "@/lib/format";

type InfoRow = {
  label: string;
  /** Stable hook for browser tests; keep it when the label changes. */
  testId: string;
  value: (info: GetInfoResponse) => ReactNode;
  wide?: boolean;
};

const NOT_REPORTED = "Not reported";

const ROWS: readonly InfoRow[] = [
  { label: "Version", testId: "server-version", value: (info) => info.version || NOT_REPORTED },
  {
    label: "Uptime",
    testId: "server-uptime",
    value: ({ uptime }) => (uptime ? formatDuration(uptime.seconds, uptime.nanos) : NOT_REPORTED),
  },
  {
    label: "Started",
    testId: "server-started-at",
    value: ({ startedAt }) =>
      startedAt ? (
        <time dateTime={timestampDate(startedAt).toISOString()}>{formatTimestamp(startedAt)}</time>
      ) : (
        NOT_REPORTED
      ),
  },
  { label: "Node.js", testId: "node-version", value: (info) => info.nodeVersion || NOT_REPORTED },
  { label: "Database", testId: "database-kind", value: (info) => formatDatabaseKind(info.databaseKind) },
  {
    label: "Database version",
    testId: "database-version",
    value: (info) => info.databaseVersion || NOT_REPORTED,
  },
  {
    label: "Installation ID",
    testId: "installation-id",
    value: (info) => (
      <span className="font-mono text-sm break-all">{info.installationId || NOT_REPORTED}</span>
    ),
    wide: true,
  },
];

export const SERVER_INFO_LABELS: readonly string[] = ROWS.map((row) => row.label);

/** The control server's GetInfo answer as a list of labelled values. */
export function ServerInfoList({ info }: { info: GetInfoResponse }) {
  return (
    <dl className="grid gap-x-8 gap-y-5 rounded-lg border border-line bg-surface p-4 sm:grid-cols-2 sm:p-6">
      {ROWS.map((row) => (
        <div key={row.testId} className={row.wide ? "space-y-1 sm:col-span-2" : "space-y-1"}>
          <dt className="text-sm text-ink-muted">{row.label}</dt>
          <dd data-testid={row.testId} className="font-medium">
            {row.value(info)}
          </dd>
        </div>
      ))}
    </dl>
  );
}
