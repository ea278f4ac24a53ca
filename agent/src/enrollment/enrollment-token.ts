import { EnrollmentError } from "./enrollment-error.js";

/** The parts of an enrollment token `oce1.<secret>.<caPin>`. */
export interface EnrollmentToken {
  readonly text: string;
  /** base64url (no padding) SHA-256 of the CA certificate's DER bytes. */
  readonly caPin: string;
}

const base64url32 = /^[A-Za-z0-9_-]{43}$/;

export function parseEnrollmentToken(text: string): EnrollmentToken {
  const parts = text.trim().split(".");
  if (
    parts.length !== 3 ||
    parts[0] !== "oce1" ||
    !base64url32.test(parts[1] ?? "") ||
    !base64url32.test(parts[2] ?? "")
  ) {
    throw new EnrollmentError(
      'the token is not an oCore enrollment token (expected "oce1.<secret>.<ca pin>"; copy it again from the console)',
    );
  }
  return { text: text.trim(), caPin: parts[2] as string };
}
