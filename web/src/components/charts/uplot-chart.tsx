"use client";

import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { type ChartData, type ChartUnit, formatValue, hasValues } from "@/lib/chart-series";

/** Line colours readable on both the light and the dark surface, in series order. */
const PALETTE = [
  "oklch(0.62 0.17 255)",
  "oklch(0.68 0.16 150)",
  "oklch(0.72 0.16 65)",
  "oklch(0.62 0.2 25)",
  "oklch(0.62 0.18 310)",
  "oklch(0.7 0.12 200)",
  "oklch(0.6 0.12 100)",
  "oklch(0.66 0.14 350)",
];

type UPlotChartProps = {
  title: string;
  data: ChartData;
  unit: ChartUnit;
  height?: number;
  /** The time axis' span in Unix seconds (the selected range); defaults to the data's. */
  xRange?: readonly [number, number];
  /** Text shown instead of the chart when there is nothing to draw. */
  emptyText?: string;
  testId?: string;
};

function themeColours() {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string) => style.getPropertyValue(name).trim() || "gray";
  return { ink: read("--color-ink-muted"), grid: read("--color-line") };
}

function buildOptions(props: UPlotChartProps, width: number, current: () => UPlotChartProps): uPlot.Options {
  const { ink, grid } = themeColours();
  const axis: uPlot.Axis = {
    stroke: ink,
    grid: { stroke: grid, width: 1 },
    ticks: { stroke: grid, width: 1 },
    font: "11px system-ui, sans-serif",
  };
  return {
    width,
    height: props.height ?? 180,
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
    // Percentages start at 0 % and show at least 100 % (a container may use several cores).
    scales: {
      x: {
        time: true,
        range: (_u, min, max) => {
          const range = current().xRange;
          return range ? [range[0], range[1]] : [min, max];
        },
      },
      y: {
        range: (_u, _min, max) =>
          props.unit === "percent" ? [0, Math.max(100, max * 1.05)] : [0, max > 0 ? max * 1.1 : 1],
      },
    },
    axes: [
      axis,
      {
        ...axis,
        size: 72,
        values: (_u, splits) => splits.map((value) => formatValue(value, props.unit)),
      },
    ],
    series: [
      {},
      ...props.data.labels.map((label, index) => ({
        label,
        stroke: PALETTE[index % PALETTE.length],
        width: 1.5,
        spanGaps: false,
        value: (_u: uPlot, value: number | null) => formatValue(value, props.unit),
      })),
    ],
  };
}

/** A summary for screen readers: each series' newest value. */
function describe(props: UPlotChartProps): string {
  const latest = props.data.labels.map((label, index) => {
    const line = props.data.columns[index + 1] ?? [];
    const value = [...line].reverse().find((v) => v !== null);
    return `${label} ${formatValue(value, props.unit)}`;
  });
  return `${props.title}, latest: ${latest.join(", ")}`;
}

/**
 * A uPlot line chart that fills its container's width, follows the light/dark theme and
 * redraws in place when its data changes.
 */
export function UPlotChart(props: UPlotChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const propsRef = useRef(props);
  propsRef.current = props;
  const shape = `${props.unit}|${props.data.labels.join("|")}`;
  const drawable = hasValues(props.data);

  // Create the chart for this set of series; rebuild it when the theme changes.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `shape` names what requires a rebuild
  useEffect(() => {
    const element = container.current;
    if (!element || !drawable) return;
    const create = () => {
      chart.current?.destroy();
      const current = propsRef.current;
      chart.current = new uPlot(
        buildOptions(current, element.clientWidth || 300, () => propsRef.current),
        current.data.columns as uPlot.AlignedData,
        element,
      );
    };
    create();
    const resize = new ResizeObserver(() => {
      const width = element.clientWidth;
      if (chart.current && width > 0 && width !== chart.current.width) {
        chart.current.setSize({ width, height: propsRef.current.height ?? 180 });
      }
    });
    resize.observe(element);
    const theme = new MutationObserver(create);
    theme.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
    const media = window.matchMedia("(prefers-color-scheme: dark)");
    media.addEventListener("change", create);
    return () => {
      resize.disconnect();
      theme.disconnect();
      media.removeEventListener("change", create);
      chart.current?.destroy();
      chart.current = null;
    };
  }, [shape, drawable]);

  // New points for the same series: update in place.
  useEffect(() => {
    chart.current?.setData(props.data.columns as uPlot.AlignedData);
  }, [props.data]);

  return (
    <figure
      className="min-w-0 rounded-lg border border-line bg-surface p-3"
      data-testid={props.testId}
      data-points={props.data.columns[0].length}
    >
      <figcaption className="mb-2 text-sm font-medium">{props.title}</figcaption>
      {drawable ? (
        <div ref={container} role="img" aria-label={describe(props)} className="ocore-chart w-full" />
      ) : (
        <p className="flex h-24 items-center justify-center text-center text-sm text-ink-muted">
          {props.emptyText ?? "No data in this range."}
        </p>
      )}
    </figure>
  );
}
