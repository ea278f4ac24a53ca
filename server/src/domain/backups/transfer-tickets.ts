import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A one-time secret that authorizes one backup transfer; only its hash is stored. */
export function createTicket(): { ticket: string; hash: string } {
  const ticket = randomBytes(32).toString("base64url");
  return { ticket, hash: hashTicket(ticket) };
}

export function hashTicket(ticket: string): string {
  return createHash("sha256").update(ticket).digest("hex");
}

export function ticketMatches(ticket: string, hash: string | null): boolean {
  if (!hash || !ticket) return false;
  const given = Buffer.from(hashTicket(ticket), "hex");
  const stored = Buffer.from(hash, "hex");
  return given.length === stored.length && timingSafeEqual(given, stored);
}
