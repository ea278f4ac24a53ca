import type { MetricPoint } from "./baseline.js";
import { linearFit } from "./robust-stats.js";

const HOUR_MS = 3_600_000;

export interface DiskForecast {
  /** Growth in percentage points per hour (negative: shrinking). */
  readonly slopePerHour: number;
  readonly r2: number;
  /** Hours from the last point until 100 %, when growing; undefined otherwise. */
  readonly hoursToFull: number | undefined;
  readonly lastValue: number;
}

/**
 * Disk time-to-full from a used-percent series by a linear fit over time. Only a fit that
 * explains the data (r² ≥ minR2) and grows gives a time; a noisy or flat series gives none.
 */
export function diskTimeToFull(points: readonly MetricPoint[], minR2 = 0.6): DiskForecast | undefined {
  if (points.length < 3) return undefined;
  const t0 = (points[0] as MetricPoint).time.getTime();
  const fit = linearFit(
    points.map((point) => (point.time.getTime() - t0) / HOUR_MS),
    points.map((point) => point.value),
  );
  if (!fit) return undefined;
  const last = points[points.length - 1] as MetricPoint;
  const lastValue = last.value;
  const growing = fit.slope > 1e-6 && fit.r2 >= minR2;
  const hoursToFull = growing ? Math.max(0, (100 - lastValue) / fit.slope) : undefined;
  return { slopePerHour: fit.slope, r2: fit.r2, hoursToFull, lastValue };
}

export interface LeakTrend {
  /** Bytes per hour of active memory growth. */
  readonly bytesPerHour: number;
  readonly r2: number;
  /** Share of consecutive steps that went up (a leak climbs almost always). */
  readonly risingShare: number;
  readonly looksLikeLeak: boolean;
}

/**
 * Memory-leak trend of active memory: a steady climb (linear fit r² ≥ 0.8, ≥ 70 % of steps up)
 * whose growth over the series is at least `minGrowthShare` of total memory.
 */
export function memoryLeakTrend(
  points: readonly MetricPoint[],
  memoryTotal: number,
  minGrowthShare = 0.05,
): LeakTrend | undefined {
  if (points.length < 6 || memoryTotal <= 0) return undefined;
  const t0 = (points[0] as MetricPoint).time.getTime();
  const fit = linearFit(
    points.map((point) => (point.time.getTime() - t0) / HOUR_MS),
    points.map((point) => point.value),
  );
  if (!fit) return undefined;
  let up = 0;
  for (let i = 1; i < points.length; i++)
    if ((points[i] as MetricPoint).value > (points[i - 1] as MetricPoint).value) up++;
  const risingShare = up / (points.length - 1);
  const spanHours = ((points[points.length - 1] as MetricPoint).time.getTime() - t0) / HOUR_MS;
  const growth = fit.slope * spanHours;
  const looksLikeLeak =
    fit.slope > 0 && fit.r2 >= 0.8 && risingShare >= 0.7 && growth >= minGrowthShare * memoryTotal;
  return { bytesPerHour: fit.slope, r2: fit.r2, risingShare, looksLikeLeak };
}
