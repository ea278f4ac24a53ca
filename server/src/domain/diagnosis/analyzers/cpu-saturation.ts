import { buildBaseline, type MetricPoint, persistentAnomalies, sustainedAbove } from "../baseline.js";
import {
  type AnalyzerResult,
  type Evidence,
  type Finding,
  round,
  type ServerEvidence,
  windowText,
} from "../diagnosis-types.js";

const NAME = "cpu_saturation";
const SATURATED_PERCENT = 90;
/** A baseline needs at least a week of hourly history to know the time of week. */
const MIN_HISTORY_POINTS = 168;

/** CPU saturation: sustained high CPU (absolute, or far above its hour-of-week normal) and which container used it. */
export function analyzeCpuSaturation(input: ServerEvidence): AnalyzerResult {
  const server = input.server;
  const points: MetricPoint[] = input.recent.map((p) => ({ time: p.time, value: p.cpuPercent }));
  if (points.length === 0) {
    return {
      findings: [],
      steps: [
        {
          analyzer: NAME,
          serverName: server.name,
          checked: "CPU usage in the window",
          showed: "no samples",
          outcome: "no_data",
        },
      ],
    };
  }
  const saturated = sustainedAbove(points, SATURATED_PERCENT, 3, 5);
  let anomalous: ReturnType<typeof persistentAnomalies> = [];
  let baselineMedian: number | undefined;
  if (input.history.length >= MIN_HISTORY_POINTS) {
    const baseline = buildBaseline(input.history.map((p) => ({ time: p.time, value: p.cpuPercent })));
    baselineMedian = baseline.overall.median;
    anomalous = persistentAnomalies(baseline, points, { k: 3, n: 5, threshold: 4, minSpread: 5 }).filter(
      (w) => w.maxValue >= 60,
    );
  }
  const window = saturated[0] ?? anomalous[0];
  const peak = Math.max(...points.map((p) => p.value));
  if (!window) {
    return {
      findings: [],
      steps: [
        {
          analyzer: NAME,
          serverName: server.name,
          checked: `CPU usage over ${points.length} points (≥ ${SATURATED_PERCENT} % in 3 of 5, or 4 robust sigmas above the hour-of-week baseline)`,
          showed: `peak ${round(peak)} %${baselineMedian === undefined ? "" : `, baseline median ${round(baselineMedian)} %`}`,
          outcome: "ruled_out",
        },
      ],
    };
  }
  const longest = [...saturated, ...anomalous].reduce((a, b) =>
    b.to.getTime() - b.from.getTime() > a.to.getTime() - a.from.getTime() ? b : a,
  );
  const evidence: Evidence[] = [
    {
      kind: "metric",
      label: "cpu_percent",
      window: { from: longest.from, to: longest.to },
      min: round(longest.minValue),
      max: round(longest.maxValue),
      ...(baselineMedian === undefined ? {} : { baseline: round(baselineMedian) }),
      unit: "%",
      text: `CPU ${round(longest.minValue)}–${round(longest.maxValue)} % from ${windowText(longest)}${baselineMedian === undefined ? "" : ` (normally ${round(baselineMedian)} %)`}`,
    },
  ];
  const top = topContainer(input, longest);
  if (top) {
    evidence.push({
      kind: "fact",
      label: `container ${top.name}`,
      window: { from: longest.from, to: longest.to },
      max: round(top.cpu),
      unit: "%",
      text: `container ${top.name} used ${round(top.cpu)} % CPU on average in that window, the most of any container`,
    });
  }
  const load = input.recent.filter((p) => p.time >= longest.from && p.time <= longest.to).map((p) => p.load1);
  if (load.length > 0)
    evidence.push({
      kind: "metric",
      label: "load1",
      window: { from: longest.from, to: longest.to },
      max: round(Math.max(...load), 2),
      text: `load average up to ${round(Math.max(...load), 2)}`,
    });
  const finding: Finding = {
    analyzer: NAME,
    serverId: server.id,
    serverName: server.name,
    title: top ? `CPU saturated by container ${top.name}` : "CPU saturated",
    likelihood: Math.min(0.95, 0.55 + (longest.maxValue - 60) / 100 + Math.min(0.15, longest.points / 100)),
    window: { from: longest.from, to: longest.to },
    summary: `CPU ${round(longest.minValue)}–${round(longest.maxValue)} % from ${windowText(longest)}${top ? `, mostly container ${top.name}` : ""}.`,
    evidence,
    remediation: [
      {
        priority: 2,
        title: "Read the logs of the busy service",
        templateKey: "builtin.collect-logs",
        parameters: { since: "-1h" },
        note: "Read-only: shows what the process was doing while it used the CPU.",
      },
    ],
    alertIds: input.alerts.filter((a) => /cpu|load/i.test(a.ruleKey + a.ruleName)).map((a) => a.id),
  };
  return {
    findings: [finding],
    steps: [
      {
        analyzer: NAME,
        serverName: server.name,
        checked: "CPU usage against 90 % and the hour-of-week baseline",
        showed: finding.summary,
        outcome: "finding",
      },
    ],
  };
}

function topContainer(input: ServerEvidence, window: { from: Date; to: Date }) {
  const totals = new Map<string, { sum: number; n: number }>();
  for (const point of input.devices) {
    if (point.time < window.from || point.time > window.to) continue;
    for (const [, name, , cpu] of point.detail.containers ?? []) {
      const entry = totals.get(name) ?? { sum: 0, n: 0 };
      entry.sum += cpu;
      entry.n++;
      totals.set(name, entry);
    }
  }
  let best: { name: string; cpu: number } | undefined;
  for (const [name, { sum, n }] of totals) if (!best || sum / n > best.cpu) best = { name, cpu: sum / n };
  return best && best.cpu >= 20 ? best : undefined;
}
