import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { AppError } from "../errors/app-error.js";

/**
 * Where the previous page ended: its last row's sort key (as PostgreSQL printed it, so a
 * timestamp keeps its microseconds and a real its exact value) and name, the unique tie-breaker.
 */
export interface PagePosition {
  readonly key: string | null;
  readonly name: string;
}

const payloadSchema = z
  .object({
    v: z.literal(1),
    /** A digest of the query the token continues (filter, search, order). */
    q: z.string().length(16),
    k: z.string().max(200).nullable(),
    n: z.string().min(1).max(200),
  })
  .strict();

/**
 * Page tokens are opaque to clients: base64url JSON followed by a checksum of it. The checksum
 * and the query digest make an edited, truncated or foreign token (one from another filter or
 * sort) an `invalid_argument` instead of a page from the wrong place. A token grants nothing: the
 * caller's scope and filter are applied again to every page.
 */
export function encodePageToken(queryDigest: string, position: PagePosition): string {
  const body = Buffer.from(
    JSON.stringify({ v: 1, q: queryDigest, k: position.key, n: position.name }),
  ).toString("base64url");
  return `${body}.${checksum(body)}`;
}

export function decodePageToken(token: string, queryDigest: string): PagePosition {
  const refuse = (why: string) =>
    AppError.invalid("page_token", `${why}; pass the next_page_token of the previous page unchanged`);
  if (token.length > 1000) throw refuse("is too long");
  const [body, sum, extra] = token.split(".");
  if (!body || !sum || extra !== undefined) throw refuse("is malformed");
  const expected = Buffer.from(checksum(body));
  const given = Buffer.from(sum);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refuse("was altered");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    throw refuse("is malformed");
  }
  const payload = payloadSchema.safeParse(parsed);
  if (!payload.success) throw refuse("is malformed");
  if (payload.data.q !== queryDigest) {
    throw refuse("belongs to another filter, search or order");
  }
  return { key: payload.data.k, name: payload.data.n };
}

/** A short digest of the query a token continues; any change of filter or order changes it. */
export function queryDigestOf(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 16);
}

function checksum(body: string): string {
  return createHash("sha256").update(`ocore-page-token:${body}`).digest("base64url").slice(0, 22);
}
