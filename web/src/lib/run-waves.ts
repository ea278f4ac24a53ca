// The run form's canary and waves: the plan the server will make (decision 0230), shown before
// the start, and its wording on the run page. The server checks again and is the authority.

const SIZE = /^(\d{1,6})(%?)$/;
const MAX_WAVES = 1_000;

export type WavePlan =
  | { readonly sizes: readonly number[]; readonly canary: number }
  | { readonly error: string; readonly field: "canary" | "waves" };

function hostsOf(text: string, total: number, maxPercent: number): number | string {
  const match = SIZE.exec(text);
  if (!match) return `"${text.slice(0, 20)}" is not a number of hosts ("5") or a percentage ("10%")`;
  const value = Number(match[1]);
  if (match[2] === "%") {
    if (value < 1 || value > maxPercent) return `must be between 1% and ${maxPercent}%`;
    return Math.max(1, Math.ceil((total * value) / 100));
  }
  return value < 1 ? "must be at least 1 host" : value;
}

/**
 * The hosts per wave for `total` runnable hosts: the canary first ("" none, "N" or "N%"), then
 * batch sizes ("1, 10%, rest"; the last repeats until every host has a wave; "" = the rest).
 */
export function planWaves(canaryText: string, wavesText: string, total: number): WavePlan {
  const c = canaryText.trim();
  let canary = 0;
  if (c) {
    const n = hostsOf(c, total, 99);
    if (typeof n === "string") return { error: n, field: "canary" };
    if (n >= total)
      return { error: `would be every host (${total}); leave hosts for the waves`, field: "canary" };
    canary = n;
  }
  const parts = wavesText.trim() ? wavesText.split(",").map((p) => p.trim()) : ["rest"];
  if (parts.length > 20) return { error: "at most 20 sizes", field: "waves" };
  const steps: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (part.toLowerCase() === "rest") {
      if (i !== parts.length - 1) return { error: '"rest" can only be the last size', field: "waves" };
      steps.push(Number.POSITIVE_INFINITY);
      continue;
    }
    const n = hostsOf(part, total, 100);
    if (typeof n === "string") return { error: n, field: "waves" };
    steps.push(n);
  }
  const sizes = canary > 0 ? [canary] : [];
  for (let left = total - canary, i = 0; left > 0; i++) {
    const size = Math.min(left, steps[Math.min(i, steps.length - 1)] as number);
    sizes.push(size);
    left -= size;
    if (sizes.length > MAX_WAVES)
      return { error: `more than ${MAX_WAVES} waves for ${total} hosts; use larger sizes`, field: "waves" };
  }
  return { sizes, canary };
}

/** The plan in one line: "canary 2 hosts, then waves of 1 · 3 · 6 hosts" (long plans shortened). */
export function wavePlanLine(plan: { readonly sizes: readonly number[]; readonly canary: number }): string {
  const rest = plan.canary > 0 ? plan.sizes.slice(1) : plan.sizes;
  const shown =
    rest.length > 8 ? [...rest.slice(0, 6).map(String), "…", String(rest.at(-1))] : rest.map(String);
  const waves =
    rest.length === 1
      ? `one wave of ${rest[0]} host${rest[0] === 1 ? "" : "s"}`
      : `${rest.length} waves of ${shown.join(" · ")} hosts`;
  return plan.canary > 0
    ? `canary ${plan.canary} host${plan.canary === 1 ? "" : "s"} (all must succeed), then ${waves}`
    : waves;
}
