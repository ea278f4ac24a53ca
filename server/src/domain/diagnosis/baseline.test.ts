import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  anomalyScore,
  buildBaseline,
  hourOfWeek,
  type MetricPoint,
  persistentAnomalies,
} from "./baseline.js";
import { linearFit, median, medianAbsoluteDeviation } from "./robust-stats.js";
import { diskTimeToFull, memoryLeakTrend } from "./trends.js";

const HOUR = 3_600_000;
const monday = Date.UTC(2026, 10, 2); // a Monday, 00:00 UTC

/** Four weeks of hourly CPU: 20 % at night, 60 % from 09:00 to 17:00, ±2 noise. */
function dailyCycle(weeks = 4): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (let h = 0; h < weeks * 168; h++) {
    const time = new Date(monday + h * HOUR);
    const day = time.getUTCHours() >= 9 && time.getUTCHours() < 17;
    points.push({ time, value: (day ? 60 : 20) + ((h * 7) % 5) - 2 });
  }
  return points;
}

describe("robust statistics", () => {
  it("median and MAD ignore a single outlier", () => {
    expect(median([1, 2, 3, 4, 1000])).toBe(3);
    expect(medianAbsoluteDeviation([1, 2, 3, 4, 1000])).toBe(1);
  });

  it("median lies between the minimum and maximum (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1 }), (values) => {
        const m = median(values);
        expect(m).toBeGreaterThanOrEqual(Math.min(...values));
        expect(m).toBeLessThanOrEqual(Math.max(...values));
      }),
    );
  });

  it("a linear fit recovers an exact line (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -100, max: 100, noNaN: true }),
        fc.double({ min: -100, max: 100, noNaN: true }),
        (a, b) => {
          const xs = [0, 1, 2, 3, 4, 5];
          const fit = linearFit(
            xs,
            xs.map((x) => a * x + b),
          );
          expect(fit?.slope).toBeCloseTo(a, 6);
          expect(fit?.intercept).toBeCloseTo(b, 6);
        },
      ),
    );
  });
});

describe("hour-of-week baseline", () => {
  it("counts hours from Monday 00:00 UTC", () => {
    expect(hourOfWeek(new Date(monday))).toBe(0);
    expect(hourOfWeek(new Date(monday + 6 * 24 * HOUR + 23 * HOUR))).toBe(167);
  });

  it("knows that business hours are busier than nights", () => {
    const baseline = buildBaseline(dailyCycle());
    expect(baseline.buckets[10]?.median).toBeGreaterThan(55);
    expect(baseline.buckets[2]?.median).toBeLessThan(25);
    // 60 % at 10:00 on a Monday is normal; 60 % at 03:00 is not.
    expect(
      Math.abs(anomalyScore(baseline, { time: new Date(monday + 10 * HOUR), value: 60 }, 1)),
    ).toBeLessThan(2);
    expect(anomalyScore(baseline, { time: new Date(monday + 3 * HOUR), value: 60 }, 1)).toBeGreaterThan(5);
  });

  it("a single spike is not a persistent anomaly, five hot hours of seven are", () => {
    const baseline = buildBaseline(dailyCycle());
    const night = (h: number, value: number) => ({
      time: new Date(monday + 5 * 168 * HOUR + h * HOUR),
      value,
    });
    const spike = [
      night(0, 20),
      night(1, 95),
      night(2, 20),
      night(3, 21),
      night(4, 19),
      night(5, 20),
      night(6, 20),
    ];
    expect(persistentAnomalies(baseline, spike, { k: 3, n: 5, threshold: 4, minSpread: 1 })).toEqual([]);
    const sustained = [
      night(0, 20),
      night(1, 20),
      night(2, 90),
      night(3, 95),
      night(4, 88),
      night(5, 99),
      night(6, 20),
    ];
    const windows = persistentAnomalies(baseline, sustained, { k: 3, n: 5, threshold: 4, minSpread: 1 });
    expect(windows).toHaveLength(1);
    expect(windows[0]?.from.toISOString()).toBe(night(2, 0).time.toISOString());
    expect(windows[0]?.to.toISOString()).toBe(night(5, 0).time.toISOString());
    expect(windows[0]?.maxValue).toBe(99);
    expect(windows[0]?.minValue).toBe(88);
  });

  it("no series of values at the baseline's medians is anomalous (property)", () => {
    const baseline = buildBaseline(dailyCycle());
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 3, max: 24 }), (start, length) => {
        const points = Array.from({ length }, (_, i) => {
          const time = new Date(monday + (start + i) * HOUR);
          return { time, value: baseline.buckets[hourOfWeek(time)]?.median ?? 0 };
        });
        expect(persistentAnomalies(baseline, points, { k: 2, n: 3, threshold: 3, minSpread: 1 })).toEqual([]);
      }),
    );
  });
});

describe("trends", () => {
  it("forecasts a steadily filling disk and not a flat one", () => {
    const filling = Array.from({ length: 24 }, (_, h) => ({
      time: new Date(monday + h * HOUR),
      value: 50 + h,
    }));
    const forecast = diskTimeToFull(filling);
    expect(forecast?.slopePerHour).toBeCloseTo(1, 6);
    expect(forecast?.hoursToFull).toBeCloseTo(27, 6);
    const flat = filling.map((point, h) => ({ ...point, value: 50 + (h % 2) }));
    expect(diskTimeToFull(flat)?.hoursToFull).toBeUndefined();
  });

  it("tells a leak from a sawtooth", () => {
    const total = 8 * 2 ** 30;
    const leak = Array.from({ length: 24 }, (_, h) => ({
      time: new Date(monday + h * HOUR),
      value: 2 ** 30 + h * 50 * 2 ** 20,
    }));
    expect(memoryLeakTrend(leak, total)?.looksLikeLeak).toBe(true);
    const saw = leak.map((point, h) => ({ ...point, value: 2 ** 30 + (h % 4) * 300 * 2 ** 20 }));
    expect(memoryLeakTrend(saw, total)?.looksLikeLeak).toBe(false);
  });
});
