import { AppError } from "../../platform/errors/app-error.js";

/** A run's rollout plan: hosts per wave, in dispatch order. */
export interface WavePlan {
  /** Canary hosts (the first wave when > 0): any failure among them stops the run. */
  readonly canary: number;
  /** After a successful canary, wait for a human to resume. */
  readonly canaryPause: boolean;
  /** Hosts in each wave (the canary first when there is one); they add up to the total. */
  readonly sizes: readonly number[];
}

/** At most this many waves (a size of 1 host on 10,000 hosts would be 10,000 waves). */
export const MAX_WAVES = 1_000;
/** At most this many sizes are written in `waves`. */
const MAX_SIZES = 20;
const SIZE = /^(\d{1,6})(%?)$/;

function hostsOf(field: string, text: string, total: number, maxPercent: number): number {
  const match = SIZE.exec(text);
  if (!match)
    throw AppError.invalid(
      field,
      `"${text.slice(0, 40)}" is not a number of hosts ("5") or a percentage ("10%")`,
    );
  const value = Number(match[1]);
  if (match[2] === "%") {
    if (value < 1 || value > maxPercent)
      throw AppError.invalid(field, `"${text}" must be between 1% and ${maxPercent}%`);
    return Math.max(1, Math.ceil((total * value) / 100));
  }
  if (value < 1) throw AppError.invalid(field, `"${text}" must be at least 1 host`);
  return value;
}

/**
 * Resolves a canary and waves against `total` runnable hosts (decision 0230).
 *
 * - `canary`: "" (none), "N" hosts or "N%" (1 % to 99 %, rounded up); it must leave hosts after it.
 * - `waves`: comma-separated batch sizes, each "N", "N%" (of all runnable hosts, rounded up) or
 *   "rest" (last only); the last size repeats until every host is in a wave (Ansible `serial`
 *   semantics), so "1, 10%, 50%, rest" and "1, 10%, 50%, 100%" are the same plan. "" = the rest
 *   in one wave.
 */
export function parseWaves(
  input: { readonly canary: string; readonly canaryPause: boolean; readonly waves: string },
  total: number,
): WavePlan {
  const canaryText = input.canary.trim();
  const canary = canaryText ? hostsOf("canary", canaryText, total, 99) : 0;
  if (canary > 0 && canary >= total) {
    throw AppError.invalid(
      "canary",
      `${canary} canary host${canary === 1 ? "" : "s"} would be every runnable target (${total}); leave hosts for the waves after it or drop the canary`,
    );
  }
  if (input.canaryPause && canary === 0)
    throw AppError.invalid("canary_pause", "needs a canary (pausing after it is what it asks for)");
  const wavesText = input.waves.trim();
  if (wavesText.length > 200) throw AppError.invalid("waves", "must be at most 200 characters");
  const parts = wavesText ? wavesText.split(",").map((part) => part.trim()) : ["rest"];
  if (parts.length > MAX_SIZES) throw AppError.invalid("waves", `at most ${MAX_SIZES} sizes`);
  const steps = parts.map((part, i) => {
    if (part.toLowerCase() === "rest") {
      if (i !== parts.length - 1) throw AppError.invalid("waves", '"rest" can only be the last size');
      return Number.POSITIVE_INFINITY;
    }
    return hostsOf("waves", part, total, 100);
  });
  const sizes: number[] = canary > 0 ? [canary] : [];
  let left = total - canary;
  for (let i = 0; left > 0; i++) {
    const size = Math.min(left, steps[Math.min(i, steps.length - 1)] as number);
    sizes.push(size);
    left -= size;
    if (sizes.length > MAX_WAVES) {
      throw AppError.invalid(
        "waves",
        `these sizes make more than ${MAX_WAVES} waves for ${total} hosts; use larger sizes or a percentage`,
      );
    }
  }
  return { canary, canaryPause: input.canaryPause, sizes };
}

/** The wave of each host, by dispatch order (hosts in order fill the waves in turn). */
export function wavesInOrder(sizes: readonly number[]): () => number {
  let wave = 0;
  let filled = 0;
  return () => {
    while (wave < sizes.length - 1 && filled >= (sizes[wave] as number)) {
      wave += 1;
      filled = 0;
    }
    filled += 1;
    return wave;
  };
}
