import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { AppError } from "../../platform/errors/app-error.js";

/** The earliest and latest instants a request may name (PostgreSQL and JavaScript both hold them). */
const EARLIEST = Date.UTC(1, 0, 1) - 1;
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * A request's time as a Date, or a clear client error: a Timestamp may carry any 64-bit seconds,
 * and one outside years 1–9999 (or with nanos out of range) is not a time anyone meant.
 */
export function requestDate(value: Timestamp, field: string): Date {
  const date = timestampDate(value);
  if (
    value.nanos < 0 ||
    value.nanos > 999_999_999 ||
    !(date.getTime() >= EARLIEST && date.getTime() <= LATEST)
  ) {
    throw AppError.invalid(field, "is not a time between the years 1 and 9999");
  }
  return date;
}

/** An optional time of a request (unset: undefined). */
export function optionalRequestDate(value: Timestamp | undefined, field: string): Date | undefined {
  return value ? requestDate(value, field) : undefined;
}

/**
 * A row id from a request (0: none). Ids are counted from 1 and stay far below 2^53, so a larger
 * value is a client's mistake, refused while it is still exact (a bigint) rather than rounded or
 * passed on to PostgreSQL beyond its bigint.
 */
export function requestRowId(value: bigint, field: string, what: string): number | undefined {
  if (value === 0n) return undefined;
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw AppError.invalid(field, `must be ${what} id, at most ${Number.MAX_SAFE_INTEGER}`);
  }
  return Number(value);
}
