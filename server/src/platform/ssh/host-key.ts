import { createHash } from "node:crypto";

/**
 * A host key's fingerprint exactly as OpenSSH prints it (`ssh-keygen -lf`, the "authenticity
 * of host" prompt): `SHA256:` and the unpadded base64 of the SHA-256 of the key blob.
 */
export function hostKeyFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** The algorithm named at the start of an SSH key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …). */
export function hostKeyAlgorithm(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return "unknown";
  const length = keyBlob.readUInt32BE(0);
  if (length === 0 || length > 64 || keyBlob.length < 4 + length) return "unknown";
  return keyBlob.subarray(4, 4 + length).toString("ascii");
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** True when `value` is a fingerprint in the OpenSSH form (users paste them from `ssh-keygen -lf`). */
export function isHostKeyFingerprint(value: string): boolean {
  return FINGERPRINT.test(value);
}
