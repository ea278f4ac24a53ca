import { ewma, MAD_TO_SIGMA, median, medianAbsoluteDeviation } from "./robust-stats.js";

/** One observation of a metric: a time and a value (hourly rollups for baselines). */
export interface MetricPoint {
  readonly time: Date;
  readonly value: number;
}

export const HOURS_PER_WEEK = 168;
/** Buckets with fewer observations fall back to the whole series' median and MAD. */
const MIN_BUCKET_POINTS = 3;

/** Expected value and spread for one hour of the week. */
export interface BaselineBucket {
  readonly median: number;
  readonly mad: number;
  readonly n: number;
}

/**
 * A metric's normal: median and MAD per hour of the week (UTC, Monday 00:00 = 0) over the
 * history it was built from, the whole series' median and MAD for thin buckets, and an EWMA of
 * the most recent values for drift.
 */
export interface Baseline {
  readonly buckets: readonly BaselineBucket[];
  readonly overall: BaselineBucket;
  readonly ewma: number;
  readonly from: Date | undefined;
  readonly to: Date | undefined;
}

/** Hour of the week in UTC, Monday 00:00–00:59 being 0. */
export function hourOfWeek(time: Date): number {
  const day = (time.getUTCDay() + 6) % 7;
  return day * 24 + time.getUTCHours();
}

/** Builds the hour-of-week baseline of a series (any order; non-finite values are skipped). */
export function buildBaseline(points: readonly MetricPoint[], ewmaAlpha = 0.3): Baseline {
  const perHour: number[][] = Array.from({ length: HOURS_PER_WEEK }, () => []);
  const all: number[] = [];
  let from: Date | undefined;
  let to: Date | undefined;
  for (const point of points) {
    if (!Number.isFinite(point.value)) continue;
    (perHour[hourOfWeek(point.time)] as number[]).push(point.value);
    all.push(point.value);
    if (!from || point.time < from) from = point.time;
    if (!to || point.time > to) to = point.time;
  }
  const overallMedian = median(all);
  const overall = { median: overallMedian, mad: medianAbsoluteDeviation(all, overallMedian), n: all.length };
  const buckets = perHour.map((values) => {
    if (values.length < MIN_BUCKET_POINTS) return { ...overall, n: values.length };
    const center = median(values);
    return { median: center, mad: medianAbsoluteDeviation(values, center), n: values.length };
  });
  const recent = [...points]
    .filter((point) => Number.isFinite(point.value))
    .sort((a, b) => a.time.getTime() - b.time.getTime())
    .slice(-24)
    .map((point) => point.value);
  return { buckets, overall, ewma: ewma(recent, ewmaAlpha), from, to };
}

/**
 * Robust z-score of `value` against the baseline for its hour of the week:
 * (value − median) / (1.4826 · MAD), with a floor on the spread (`minSpread`, in the metric's
 * unit) so a perfectly flat history does not turn noise into huge scores.
 */
export function anomalyScore(baseline: Baseline, point: MetricPoint, minSpread: number): number {
  const bucket = baseline.buckets[hourOfWeek(point.time)] ?? baseline.overall;
  if (!Number.isFinite(bucket.median)) return 0;
  const spread = Math.max(bucket.mad * MAD_TO_SIGMA, minSpread);
  return (point.value - bucket.median) / spread;
}

/** A stretch of points whose anomaly persisted: at least k of every n consecutive points. */
export interface AnomalyWindow {
  readonly from: Date;
  readonly to: Date;
  readonly peakScore: number;
  readonly peakValue: number;
  readonly minValue: number;
  readonly maxValue: number;
  readonly points: number;
}

/**
 * The windows where at least `k` of `n` consecutive points score above `threshold` (upwards:
 * `direction` 1, downwards: −1). A single spike never makes a window unless k is 1. Points must
 * be in time order.
 */
export function persistentAnomalies(
  baseline: Baseline,
  points: readonly MetricPoint[],
  options: {
    readonly k: number;
    readonly n: number;
    readonly threshold: number;
    readonly minSpread: number;
    readonly direction?: 1 | -1;
  },
): AnomalyWindow[] {
  const direction = options.direction ?? 1;
  const scores = points.map((point) => anomalyScore(baseline, point, options.minSpread) * direction);
  const hot = scores.map((score) => score >= options.threshold);
  // Mark every point that belongs to some n-window holding ≥ k hot points.
  const member = new Uint8Array(points.length);
  let count = 0;
  for (let i = 0; i < points.length; i++) {
    if (hot[i]) count++;
    if (i >= options.n && hot[i - options.n]) count--;
    if (i >= Math.min(options.n, points.length) - 1 && count >= options.k) {
      for (let j = Math.max(0, i - options.n + 1); j <= i; j++) if (hot[j]) member[j] = 1;
    }
  }
  const windows: AnomalyWindow[] = [];
  let start = -1;
  const close = (end: number) => {
    const slice = points.slice(start, end + 1);
    const sliceScores = scores.slice(start, end + 1);
    let peak = 0;
    for (let i = 1; i < sliceScores.length; i++)
      if ((sliceScores[i] as number) > (sliceScores[peak] as number)) peak = i;
    const values = slice.map((point) => point.value);
    windows.push({
      from: (slice[0] as MetricPoint).time,
      to: new Date((slice[slice.length - 1] as MetricPoint).time.getTime()),
      peakScore: sliceScores[peak] as number,
      peakValue: (slice[peak] as MetricPoint).value,
      minValue: Math.min(...values),
      maxValue: Math.max(...values),
      points: slice.length,
    });
  };
  // Members separated by at most n−1 non-members belong to one window.
  let lastMember = -1;
  for (let i = 0; i < points.length; i++) {
    if (!member[i]) continue;
    if (start < 0) start = i;
    else if (i - lastMember >= options.n) {
      close(lastMember);
      start = i;
    }
    lastMember = i;
  }
  if (start >= 0) close(lastMember);
  return windows;
}

/** A baseline that expects `value` at every hour with no spread: scores say "above value". */
export function constantBaseline(value: number): Baseline {
  const bucket = { median: value, mad: 0, n: 0 };
  return {
    buckets: Array.from({ length: HOURS_PER_WEEK }, () => bucket),
    overall: bucket,
    ewma: value,
    from: undefined,
    to: undefined,
  };
}

/** Windows where at least k of n consecutive points are at or above `threshold` (absolute). */
export function sustainedAbove(
  points: readonly MetricPoint[],
  threshold: number,
  k: number,
  n: number,
): AnomalyWindow[] {
  return persistentAnomalies(constantBaseline(threshold), points, { k, n, threshold: 0, minSpread: 1 });
}
