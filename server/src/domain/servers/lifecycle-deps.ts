import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { MasterKeyring } from "../../platform/pki/master-key.js";

/** Requirement ids an admin may accept as failed (see provisioning/requirements.ts). */
export const ACCEPTABLE_REQUIREMENTS = ["os", "architecture", "docker", "privileges"] as const;

export interface LifecycleDeps {
  readonly db: Db;
  readonly sshKeyring: MasterKeyring;
  readonly now: () => Date;
  /** Tells the worker a job is due (it also polls). */
  readonly onJobQueued: () => void;
}

export function checkAccepted(ids: readonly string[]): string[] {
  const unknown = ids.filter((id) => !(ACCEPTABLE_REQUIREMENTS as readonly string[]).includes(id));
  if (unknown.length > 0) {
    throw AppError.invalid(
      "acceptedRequirements",
      `unknown: ${unknown.join(", ")}; these can be accepted: ${ACCEPTABLE_REQUIREMENTS.join(", ")}`,
    );
  }
  return [...new Set(ids)];
}

export function checkPlanned(value: number): number {
  if (value === 0) return 1;
  if (!Number.isInteger(value) || value < 1 || value > 100) {
    throw AppError.invalid("plannedInstances", "must be 1-100 (0 means 1)");
  }
  return value;
}
