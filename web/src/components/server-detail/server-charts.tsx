"use client";

import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useQuery } from "@connectrpc/connect-query";
import { FleetService } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { MetricsService, Resolution } from "@ocore/proto/gen/ocore/api/v1/metrics_service_pb.js";
import { keepPreviousData } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { UPlotChart } from "@/components/charts/uplot-chart";
import { ApiErrorAlert } from "@/components/system/api-error-alert";
import { deviceCharts, hostCharts } from "@/lib/chart-series";
import { rangeMs, rangeWindow, type TimeRange } from "@/lib/time-range";
import { ContainersTable } from "./containers-table";

const RESOLUTION_TEXT: Partial<Record<Resolution, string>> = {
  [Resolution.RAW]: "every sample",
  [Resolution.MINUTE]: "1-minute averages",
  [Resolution.HOUR]: "1-hour averages",
};
const DEVICE_POINTS = 360;

/**
 * The end of a preset window moves when a new sample arrives (`liveAt`), in steps that fit the
 * range (15 s for an hour, a minute for a day, ten minutes for a week): the charts follow the
 * live feed without polling and without refetching a week for every sample.
 */
function anchorOf(range: TimeRange, liveAt: Date | undefined, openedAt: Date): Date {
  const step = rangeMs(range) <= 3_600_000 ? 15_000 : rangeMs(range) <= 86_400_000 ? 60_000 : 600_000;
  const latest = Math.max(liveAt?.getTime() ?? 0, openedAt.getTime());
  return new Date(Math.ceil(latest / step) * step);
}

function ChartSkeleton() {
  return (
    <div role="status" aria-busy="true" data-testid="charts-loading" className="grid gap-4 md:grid-cols-2">
      <span className="sr-only">Loading charts…</span>
      {[0, 1, 2, 3].map((key) => (
        <div
          key={key}
          aria-hidden="true"
          className="h-60 animate-pulse rounded-lg border border-line bg-surface motion-reduce:animate-none"
        />
      ))}
    </div>
  );
}

/** The server's charts for a range: host series from GetSeries, per-device series from GetDeviceSeries. */
export function ServerCharts({
  serverId,
  range,
  liveAt,
}: {
  serverId: string;
  range: TimeRange;
  liveAt?: Date;
}) {
  const [openedAt] = useState(() => new Date());
  const anchor = anchorOf(range, liveAt, openedAt).getTime();
  const span = useMemo(() => rangeWindow(range, new Date(anchor)), [range, anchor]);
  const request = {
    serverId,
    startTime: timestampFromDate(span.from),
    endTime: timestampFromDate(span.to),
  };
  const host = useQuery(MetricsService.method.getSeries, request, { placeholderData: keepPreviousData });
  const device = useQuery(
    FleetService.method.getDeviceSeries,
    { ...request, maxPoints: DEVICE_POINTS },
    { placeholderData: keepPreviousData },
  );
  const hostData = useMemo(() => hostCharts(host.data?.points ?? []), [host.data]);
  const deviceData = useMemo(() => deviceCharts(device.data?.points ?? []), [device.data]);
  const error = host.error ?? device.error;
  const lastDevicePoint = device.data?.points.at(-1);
  const xRange = useMemo(() => [span.from.getTime() / 1000, span.to.getTime() / 1000] as const, [span]);

  if (error && !host.data && !device.data) {
    return (
      <ApiErrorAlert
        error={error}
        retrying={host.isFetching || device.isFetching}
        onRetry={() => {
          void host.refetch();
          void device.refetch();
        }}
        staleData={false}
        testId="charts-error"
        retryTestId="charts-retry"
      />
    );
  }
  if (!host.data || !device.data) return <ChartSkeleton />;
  const empty = host.data.points.length === 0 && device.data.points.length === 0;
  const coreCount = lastDevicePoint?.coreUsagePercent.length ?? 0;

  return (
    <div className="space-y-4" data-testid="server-charts">
      <p className="text-sm text-ink-muted" aria-live="polite">
        {empty
          ? "No samples in this range. The agent sends samples once it is connected; choose a range that covers when the server was online."
          : `${host.data.points.length} points (${RESOLUTION_TEXT[host.data.resolution] ?? "server's choice"}); per-device charts from ${device.data.points.length} samples.`}
      </p>
      {empty ? null : (
        <>
          <div className="grid gap-4 md:grid-cols-2">
            <UPlotChart
              xRange={xRange}
              title="CPU, total"
              data={hostData.cpu}
              unit="percent"
              testId="chart-cpu"
            />
            <UPlotChart
              xRange={xRange}
              title={coreCount > 8 ? `CPU per core (busiest 8 of ${coreCount})` : "CPU per core"}
              data={deviceData.cores}
              unit="percent"
              testId="chart-cores"
            />
            <UPlotChart
              xRange={xRange}
              title="Load average"
              data={hostData.load}
              unit="number"
              testId="chart-load"
            />
            <UPlotChart
              xRange={xRange}
              title="Memory"
              data={deviceData.memory}
              unit="bytes"
              testId="chart-memory"
            />
            <UPlotChart
              xRange={xRange}
              title="Disk space used, per mount"
              data={deviceData.filesystems}
              unit="percent"
              testId="chart-filesystems"
            />
            <UPlotChart
              xRange={xRange}
              title="Disk I/O, per device"
              data={deviceData.diskIo}
              unit="bytesPerSecond"
              testId="chart-disk-io"
            />
            <UPlotChart
              xRange={xRange}
              title="Network, per interface"
              data={deviceData.network}
              unit="bytesPerSecond"
              testId="chart-network"
            />
            <UPlotChart
              xRange={xRange}
              title="Containers, CPU"
              data={deviceData.containerCpu}
              unit="percent"
              testId="chart-container-cpu"
              emptyText="No containers in this range."
            />
            <UPlotChart
              xRange={xRange}
              title="Containers, memory"
              data={deviceData.containerMemory}
              unit="bytes"
              testId="chart-container-memory"
              emptyText="No containers in this range."
            />
          </div>
          <section className="space-y-2">
            <h2 className="text-lg font-semibold">Containers</h2>
            <ContainersTable containers={lastDevicePoint?.containers ?? []} />
          </section>
        </>
      )}
      {error ? (
        <ApiErrorAlert
          error={error}
          retrying={host.isFetching || device.isFetching}
          onRetry={() => {
            void host.refetch();
            void device.refetch();
          }}
          staleData
          testId="charts-error"
          retryTestId="charts-retry"
        />
      ) : null}
    </div>
  );
}
