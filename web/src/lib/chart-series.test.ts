import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DevicePointSchema } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { MetricPointSchema } from "@ocore/proto/gen/ocore/api/v1/metrics_service_pb.js";
import { describe, expect, it } from "vitest";
import { deviceCharts, formatBytes, formatValue, hasValues, hostCharts, TOP_CORES } from "./chart-series";

const at = (minute: number) => timestampFromDate(new Date(Date.UTC(2026, 2, 1, 10, minute)));

describe("chart series", () => {
  it("aligns host series on Unix seconds", () => {
    const points = [0, 1].map((minute) =>
      create(MetricPointSchema, {
        time: at(minute),
        cpuUsagePercent: 10 + minute,
        cpuUsagePercentMax: 50,
        load1: 1,
      }),
    );
    const { cpu, load } = hostCharts(points);
    expect(cpu.columns).toEqual([
      [1772359200, 1772359260],
      [10, 11],
      [50, 50],
    ]);
    expect(load.labels).toEqual(["1 min", "5 min", "15 min"]);
    expect(hasValues(cpu)).toBe(true);
    expect(hasValues(hostCharts([]).cpu)).toBe(false);
  });

  it("shows the busiest cores first and leaves gaps where a device is missing", () => {
    const cores = Array.from({ length: 12 }, (_, index) => index * 5);
    const points = [
      create(DevicePointSchema, {
        time: at(0),
        coreUsagePercent: cores,
        filesystems: [{ mount: "/", totalBytes: 100n, usedBytes: 25n }],
      }),
      create(DevicePointSchema, {
        time: at(1),
        coreUsagePercent: cores,
        filesystems: [
          { mount: "/", totalBytes: 100n, usedBytes: 50n },
          { mount: "/data", totalBytes: 10n, usedBytes: 9n },
        ],
      }),
    ];
    const charts = deviceCharts(points);
    expect(charts.cores.labels).toHaveLength(TOP_CORES);
    expect(charts.cores.labels.slice(0, 3)).toEqual(["CPU 11", "CPU 10", "CPU 9"]);
    expect(charts.filesystems.labels).toEqual(["/data", "/"]);
    expect(charts.filesystems.columns.slice(1)).toEqual([
      [null, 90],
      [25, 50],
    ]);
  });

  it("formats values for people", () => {
    expect(formatBytes(1536)).toBe("1.50 KiB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5.00 GiB");
    expect(formatValue(2048, "bytesPerSecond")).toBe("2.00 KiB/s");
    expect(formatValue(42.42, "percent")).toBe("42 %");
    expect(formatValue(null, "number")).toBe("–");
  });
});
