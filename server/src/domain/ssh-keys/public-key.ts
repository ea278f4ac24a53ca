import ssh2 from "ssh2";
import { AppError } from "../../platform/errors/app-error.js";
import { hostKeyFingerprint } from "../../platform/ssh/host-key.js";

// ssh2 is CommonJS and Node cannot see `utils` as a named export: take it from the default export.
const { utils } = ssh2;

/** Key types users may log in with: ed25519, ecdsa, and rsa of at least MIN_RSA_BITS. */
export const ACCEPTED_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
] as const;
export const MIN_RSA_BITS = 3072;

export interface UserPublicKey {
  readonly algorithm: string;
  /** `SHA256:…` as OpenSSH prints it. */
  readonly fingerprint: string;
  /** `type base64`, without comment. */
  readonly line: string;
  /** The comment after the key, if any. */
  readonly comment: string;
  /** The key blob (SSH wire format). */
  readonly blob: Buffer;
}

/** Reads one OpenSSH public key line (as in `~/.ssh/id_ed25519.pub`) and checks its type and size. */
export function parseUserPublicKey(input: string): UserPublicKey {
  const text = input.trim();
  if (text === "")
    throw AppError.invalid("publicKey", "is required: paste one line such as ~/.ssh/id_ed25519.pub");
  if (text.length > 16_384 || /[\r\n]/.test(text)) {
    throw AppError.invalid("publicKey", "must be one OpenSSH public key line (e.g. ~/.ssh/id_ed25519.pub)");
  }
  if (text.includes("PRIVATE KEY")) {
    throw AppError.invalid("publicKey", "is a private key; paste the public key (the .pub file) instead");
  }
  const [type = "", data = "", ...rest] = text.split(/\s+/);
  if (!(ACCEPTED_KEY_TYPES as readonly string[]).includes(type)) {
    throw AppError.invalid(
      "publicKey",
      `key type "${type.slice(0, 40)}" is not accepted; use ed25519 (ssh-keygen -t ed25519), ecdsa, or rsa of at least ${MIN_RSA_BITS} bits`,
    );
  }
  const parsed = utils.parseKey(`${type} ${data}`);
  if (parsed instanceof Error || Array.isArray(parsed) || parsed.type !== type) {
    throw AppError.invalid("publicKey", "is not a readable OpenSSH public key line");
  }
  const blob = parsed.getPublicSSH();
  if (type === "ssh-rsa") {
    const bits = rsaModulusBits(blob);
    if (bits < MIN_RSA_BITS) {
      throw AppError.invalid(
        "publicKey",
        `is an RSA key of ${bits} bits; at least ${MIN_RSA_BITS} are needed (or use ssh-keygen -t ed25519)`,
      );
    }
  }
  return {
    algorithm: type,
    fingerprint: hostKeyFingerprint(blob),
    line: `${type} ${blob.toString("base64")}`,
    comment: rest.join(" ").slice(0, 100),
    blob,
  };
}

/** The RSA modulus size of an `ssh-rsa` blob: string type, mpint e, mpint n. */
function rsaModulusBits(blob: Buffer): number {
  let offset = 0;
  const next = () => {
    const length = blob.readUInt32BE(offset);
    const value = blob.subarray(offset + 4, offset + 4 + length);
    offset += 4 + length;
    return value;
  };
  next();
  next();
  const modulus = next();
  let start = 0;
  while (start < modulus.length && modulus[start] === 0) start++;
  if (start === modulus.length) return 0;
  const leading = modulus[start] ?? 0;
  return (modulus.length - start - 1) * 8 + (32 - Math.clz32(leading));
}
