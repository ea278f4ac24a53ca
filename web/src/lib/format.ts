import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { DatabaseKind } from "@ocore/proto/gen/ocore/api/v1/system_service_pb.js";

const DURATION_UNITS = [
  { label: "d", seconds: 86_400n },
  { label: "h", seconds: 3_600n },
  { label: "min", seconds: 60n },
  { label: "s", seconds: 1n },
] as const;

const NANOS_PER_MILLI = 1_000_000;

/**
 * Formats a protobuf Duration (seconds and nanos) for people: the largest non-zero
 * unit and, when not zero, the next one ("3 d 4 h", "12 min 5 s", "1 h").
 * Under one second it shows milliseconds ("250 ms"); under one millisecond "0 s".
 */
export function formatDuration(seconds: bigint, nanos = 0): string {
  // A protobuf Duration has seconds and nanos of the same sign.
  if (seconds < 0n || nanos < 0) {
    return `-${formatDuration(-seconds, -nanos)}`;
  }
  if (seconds === 0n) {
    const millis = Math.floor(nanos / NANOS_PER_MILLI);
    return millis > 0 ? `${millis} ms` : "0 s";
  }
  let rest = seconds;
  const amounts = DURATION_UNITS.map((unit) => {
    const amount = rest / unit.seconds;
    rest %= unit.seconds;
    return { label: unit.label, amount };
  });
  const first = amounts.findIndex((part) => part.amount > 0n);
  return amounts
    .slice(first, first + 2)
    .filter((part, index) => index === 0 || part.amount > 0n)
    .map((part) => `${part.amount} ${part.label}`)
    .join(" ");
}

/** Names the database engine the way the console shows it. */
export function formatDatabaseKind(kind: DatabaseKind): string {
  switch (kind) {
    case DatabaseKind.PGLITE:
      return "Embedded PGlite";
    case DatabaseKind.POSTGRES:
      return "PostgreSQL";
    default:
      // UNSPECIFIED, or a kind added by a newer server than this console knows.
      return "Unknown";
  }
}

/**
 * Formats a protobuf Timestamp as a date and time. `locale` and `timeZone` default
 * to the browser's; tests pass them to get stable output.
 */
export function formatTimestamp(timestamp: Timestamp, locale?: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium", timeZone }).format(
    timestampDate(timestamp),
  );
}
