import { hash, verify } from "@node-rs/argon2";
import { AppError } from "../../platform/errors/app-error.js";

// argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const options = { algorithm: 2 as const, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, options);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A hash to verify against when the user does not exist, so timing does not reveal usernames. */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword("decoy password that never matches");
  return decoyHash;
}

export function checkNewPassword(password: string, field = "newPassword"): void {
  if (password.length < 12) throw AppError.invalid(field, "must be at least 12 characters long");
  if (password.length > 256) throw AppError.invalid(field, "must be at most 256 characters long");
  if (new Set(password).size < 5)
    throw AppError.invalid(field, "is too repetitive; use more different characters");
}
