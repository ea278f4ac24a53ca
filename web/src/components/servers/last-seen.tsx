import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { formatTimestamp } from "@/lib/format";
import { formatRelativeTime } from "@/lib/relative-time";

/** When the agent was last heard from, relative to `now` (the time of the answer), exact on hover. */
export function LastSeen({ at, now }: { at: Timestamp | undefined; now: Date }) {
  if (!at) return <span className="text-ink-muted">Never</span>;
  const date = timestampDate(at);
  return (
    <time dateTime={date.toISOString()} title={formatTimestamp(at)} className="whitespace-nowrap">
      {formatRelativeTime(date, now)}
    </time>
  );
}
