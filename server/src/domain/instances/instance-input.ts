import { randomBytes } from "node:crypto";
import { AppError } from "../../platform/errors/app-error.js";

const NAME = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
// [registry[:port]/]path[:tag][@sha256:digest], lower-case path components.
const IMAGE =
  /^(?:(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MIN_MEMORY = 128 * 1024 * 1024;

export function checkInstanceName(name: string, field = "name"): string {
  if (!NAME.test(name)) {
    throw AppError.invalid(
      field,
      `"${name.slice(0, 60)}" is not a valid instance name: use 2-40 lowercase letters, digits and dashes, starting with a letter (e.g. "acme-prod")`,
    );
  }
  return name;
}

export function checkImageReference(value: string, field: string): string {
  if (value.length > 255 || !IMAGE.test(value)) {
    throw AppError.invalid(
      field,
      `"${value.slice(0, 80)}" is not a valid image reference: use [registry/]name[:tag][@sha256:digest] with a lower-case name, e.g. "odoo:17.0"`,
    );
  }
  return value;
}

export interface InstanceSettingsInput {
  readonly edition: string;
  readonly workers: number;
  readonly cpuMillis: number;
  readonly memoryBytes: bigint;
  readonly environment: Readonly<Record<string, string>>;
}

export function checkInstanceSettings(input: InstanceSettingsInput) {
  const edition = input.edition || "community";
  if (edition !== "community" && edition !== "enterprise") {
    throw AppError.invalid("edition", `"${edition}" is not an edition: use community or enterprise`);
  }
  if (!Number.isInteger(input.workers) || input.workers > 64) {
    throw AppError.invalid("workers", "must be 0 (threaded) to 64");
  }
  if (input.cpuMillis > 64_000)
    throw AppError.invalid("cpuMillis", "must be at most 64000 (64 cores); 0 is unlimited");
  const memoryBytes = Number(input.memoryBytes);
  if (memoryBytes !== 0 && (memoryBytes < MIN_MEMORY || memoryBytes > 2 ** 40)) {
    throw AppError.invalid("memoryBytes", "must be 0 (unlimited) or between 128 MiB and 1 TiB");
  }
  const entries = Object.entries(input.environment);
  if (entries.length > 100) throw AppError.invalid("environment", "at most 100 variables");
  for (const [key, value] of entries) {
    if (!ENV_KEY.test(key)) {
      throw AppError.invalid(
        "environment",
        `"${key.slice(0, 60)}" is not a variable name: letters, digits and _, not starting with a digit`,
      );
    }
    if (value.length > 4096 || value.includes("\0")) {
      throw AppError.invalid("environment", `${key}: values are at most 4096 characters without NUL`);
    }
  }
  return {
    edition: edition as "community" | "enterprise",
    workers: input.workers,
    cpuMillis: input.cpuMillis,
    memoryBytes,
    environment: Object.fromEntries(entries),
  };
}

/** A password the server generates for odoo.conf (printable, no spaces, 32 characters). */
export function generateSecret(): string {
  return randomBytes(24).toString("base64url");
}

/** PostgreSQL's unique_violation, through drizzle's wrapper or directly. */
export function isUniqueViolation(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: unknown }).code === "23505") return true;
  }
  return false;
}
