import { AppError } from "../../platform/errors/app-error.js";

/** A run's rate control, resolved to host counts. */
export interface RateLimits {
  /** Hosts running at the same time (≥ 1). */
  readonly concurrency: number;
  /** Failures tolerated; failure number maxErrors + 1 stops all further starts. */
  readonly maxErrors: number;
}

const RATE = /^(\d{1,6})(%?)$/;

/**
 * Parses "N" or "N%" of `total` runnable hosts. Concurrency must be 1 to `total` hosts or
 * 1 % to 100 % (at least one host); max errors 0 or more hosts, or 0 % to 100 % (rounded down).
 */
export function parseRateLimits(
  input: { readonly maxConcurrency: string; readonly maxErrors: string },
  total: number,
): RateLimits {
  const concurrencyText = input.maxConcurrency.trim() || "10%";
  const match = RATE.exec(concurrencyText);
  if (!match)
    throw AppError.invalid("max_concurrency", 'must be a number of hosts ("5") or a percentage ("10%")');
  const value = Number(match[1]);
  let concurrency: number;
  if (match[2] === "%") {
    if (value < 1 || value > 100) throw AppError.invalid("max_concurrency", "must be between 1% and 100%");
    concurrency = Math.max(1, Math.ceil((total * value) / 100));
  } else {
    if (value < 1) throw AppError.invalid("max_concurrency", "must be at least 1 host");
    concurrency = Math.min(value, Math.max(total, 1));
  }
  const errorsText = input.maxErrors.trim() || "0";
  const errorsMatch = RATE.exec(errorsText);
  if (!errorsMatch)
    throw AppError.invalid("max_errors", 'must be a number of hosts ("0") or a percentage ("5%")');
  const errors = Number(errorsMatch[1]);
  let maxErrors: number;
  if (errorsMatch[2] === "%") {
    if (errors > 100) throw AppError.invalid("max_errors", "must be between 0% and 100%");
    maxErrors = Math.floor((total * errors) / 100);
  } else {
    maxErrors = errors;
  }
  return { concurrency, maxErrors };
}

/** Where a run stands, as dispatching needs it. */
export interface DispatchState {
  /** Hosts started and not ended. */
  running: number;
  /** Hosts that failed, timed out or were unreachable. */
  errors: number;
}

/**
 * Whether one more host may start now. The rule is checked before every single start (never for
 * a batch at once), so once failure number maxErrors + 1 is counted nothing starts again, and at
 * most maxErrors + concurrency hosts ever fail (the budget plus what was already running).
 */
export function mayStart(limits: RateLimits, state: DispatchState): boolean {
  return state.errors <= limits.maxErrors && state.running < limits.concurrency;
}

export function budgetSpent(limits: RateLimits, state: DispatchState): boolean {
  return state.errors > limits.maxErrors;
}
