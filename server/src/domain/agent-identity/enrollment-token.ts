import { createHash, randomBytes } from "node:crypto";

/** Token text: `oce1.<secret>.<caPin>`, both parts base64url without padding. */
const PREFIX = "oce1";
const SECRET_BYTES = 32;

export interface ParsedEnrollmentToken {
  readonly secretHash: string;
  readonly caPin: string;
}

export function newEnrollmentToken(caPin: string): { readonly text: string; readonly secretHash: string } {
  const secret = randomBytes(SECRET_BYTES);
  return { text: `${PREFIX}.${secret.toString("base64url")}.${caPin}`, secretHash: hashSecret(secret) };
}

/** Undefined when the text is not a token of this format (never says which part is wrong). */
export function parseEnrollmentToken(text: string): ParsedEnrollmentToken | undefined {
  const parts = text.trim().split(".");
  if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
  const [, secretText = "", caPin = ""] = parts;
  if (!/^[A-Za-z0-9_-]{43}$/.test(secretText) || !/^[A-Za-z0-9_-]{43}$/.test(caPin)) return undefined;
  const secret = Buffer.from(secretText, "base64url");
  if (secret.length !== SECRET_BYTES) return undefined;
  return { secretHash: hashSecret(secret), caPin };
}

/** SHA-256 suffices: the secret is 256 random bits, so there is nothing to brute-force. */
function hashSecret(secret: Buffer): string {
  return createHash("sha256").update(secret).digest("hex");
}
