/** The ranges the server detail page offers; "custom" reads `from` and `to` from the URL. */
export const PRESET_RANGES = ["1h", "24h", "7d"] as const;
export type PresetRange = (typeof PRESET_RANGES)[number];

export type TimeRange =
  | { readonly kind: "preset"; readonly preset: PresetRange }
  | { readonly kind: "custom"; readonly from: Date; readonly to: Date };

const PRESET_MS: Record<PresetRange, number> = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 };
export const PRESET_LABELS: Record<PresetRange, string> = {
  "1h": "1 hour",
  "24h": "24 hours",
  "7d": "7 days",
};
/** The API keeps raw samples a few days and rollups for months; a custom range may span 31 days. */
export const MAX_CUSTOM_MS = 31 * 86_400_000;

export const DEFAULT_RANGE = { kind: "preset", preset: "1h" } as const satisfies TimeRange;

function isPreset(value: string): value is PresetRange {
  return (PRESET_RANGES as readonly string[]).includes(value);
}

/**
 * Reads the range from the page's search parameters (`range=1h|24h|7d`, or `from`/`to` as ISO
 * times). Anything else gives the default range and, for a broken custom range, the reason.
 */
export function parseTimeRange(params: { get(name: string): string | null }): {
  range: TimeRange;
  problem?: string;
} {
  const from = params.get("from");
  const to = params.get("to");
  if (from !== null || to !== null) {
    const start = new Date(from ?? "");
    const end = new Date(to ?? "");
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
      return { range: DEFAULT_RANGE, problem: "The custom range needs a start and an end time." };
    }
    if (start.getTime() >= end.getTime()) {
      return { range: DEFAULT_RANGE, problem: "The custom range must start before it ends." };
    }
    if (end.getTime() - start.getTime() > MAX_CUSTOM_MS) {
      return { range: DEFAULT_RANGE, problem: "A custom range may span at most 31 days." };
    }
    return { range: { kind: "custom", from: start, to: end } };
  }
  const preset = params.get("range");
  return { range: preset && isPreset(preset) ? { kind: "preset", preset } : DEFAULT_RANGE };
}

/** The search string that selects `range` (the default range has none). */
export function timeRangeSearch(range: TimeRange): string {
  if (range.kind === "custom") {
    return `?${new URLSearchParams({ from: range.from.toISOString(), to: range.to.toISOString() })}`;
  }
  return range.preset === DEFAULT_RANGE.preset ? "" : `?range=${range.preset}`;
}

/** The absolute window of a range at `now`. */
export function rangeWindow(range: TimeRange, now: Date): { from: Date; to: Date } {
  if (range.kind === "custom") return { from: range.from, to: range.to };
  return { from: new Date(now.getTime() - PRESET_MS[range.preset]), to: now };
}

/** A range's length, to pick axis labels and point counts. */
export function rangeMs(range: TimeRange): number {
  return range.kind === "custom" ? range.to.getTime() - range.from.getTime() : PRESET_MS[range.preset];
}

/** The value of a `datetime-local` input for `date` in the browser's time zone. */
export function toLocalInput(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}
