import { sustainedAbove } from "../baseline.js";
import {
  type AnalyzerResult,
  type Evidence,
  type Finding,
  gib,
  type ReasoningStep,
  round,
  type ServerEvidence,
  windowText,
} from "../diagnosis-types.js";
import { memoryLeakTrend } from "../trends.js";

const NAME = "memory_pressure";
const PRESSURE_USED_PERCENT = 90;

/** Memory pressure (little available memory for a while, swap in use) and leaks (active memory climbing steadily). */
export function analyzeMemoryPressure(input: ServerEvidence): AnalyzerResult {
  const server = input.server;
  const steps: ReasoningStep[] = [];
  const findings: Finding[] = [];
  const recent = input.recent.filter((p) => p.memoryTotal > 0);
  if (recent.length === 0) {
    return {
      findings,
      steps: [
        {
          analyzer: NAME,
          serverName: server.name,
          checked: "memory in the window",
          showed: "no samples",
          outcome: "no_data",
        },
      ],
    };
  }
  const total = (recent[recent.length - 1] as (typeof recent)[number]).memoryTotal;
  const usedPercent = recent.map((p) => ({
    time: p.time,
    value: (100 * (p.memoryTotal - p.memoryAvailable)) / p.memoryTotal,
  }));
  const pressure = sustainedAbove(usedPercent, PRESSURE_USED_PERCENT, 3, 5)[0];
  const top = topContainer(input);
  if (pressure) {
    const swapMax = Math.max(
      ...recent.filter((p) => p.time >= pressure.from && p.time <= pressure.to).map((p) => p.swapUsed),
    );
    const evidence: Evidence[] = [
      {
        kind: "metric",
        label: "memory_used_percent",
        window: { from: pressure.from, to: pressure.to },
        min: round(pressure.minValue),
        max: round(pressure.maxValue),
        unit: "%",
        text: `memory ${round(pressure.minValue)}–${round(pressure.maxValue)} % used (of ${gib(total)}) from ${windowText(pressure)}`,
      },
    ];
    if (swapMax > 0)
      evidence.push({
        kind: "metric",
        label: "swap_used",
        window: { from: pressure.from, to: pressure.to },
        max: swapMax,
        unit: "bytes",
        text: `swap in use, up to ${gib(swapMax)}`,
      });
    if (top)
      evidence.push({
        kind: "fact",
        label: `container ${top.name}`,
        max: top.bytes,
        unit: "bytes",
        text: `container ${top.name} holds ${gib(top.bytes)}, the most of any container`,
      });
    findings.push({
      analyzer: NAME,
      serverId: server.id,
      serverName: server.name,
      title: top ? `Memory pressure (container ${top.name} holds the most)` : "Memory pressure",
      likelihood: Math.min(0.95, 0.6 + (pressure.maxValue - PRESSURE_USED_PERCENT) / 25),
      window: { from: pressure.from, to: pressure.to },
      summary: `Memory ${round(pressure.minValue)}–${round(pressure.maxValue)} % used from ${windowText(pressure)}.`,
      evidence,
      remediation: [
        {
          priority: 2,
          title: "Read the logs for OOM kills",
          templateKey: "builtin.collect-logs",
          parameters: { unit: "", since: "-2h" },
          note: "Read-only: the kernel log shows which process the OOM killer chose.",
        },
      ],
      alertIds: input.alerts.filter((a) => /mem|swap/i.test(a.ruleKey + a.ruleName)).map((a) => a.id),
    });
    steps.push({
      analyzer: NAME,
      serverName: server.name,
      checked: `used memory ≥ ${PRESSURE_USED_PERCENT} % in 3 of 5 points`,
      showed: `${round(pressure.maxValue)} % at peak`,
      outcome: "finding",
    });
  } else {
    steps.push({
      analyzer: NAME,
      serverName: server.name,
      checked: `used memory ≥ ${PRESSURE_USED_PERCENT} % in 3 of 5 points`,
      showed: `peak ${round(Math.max(...usedPercent.map((p) => p.value)))} %`,
      outcome: "ruled_out",
    });
  }
  const active = input.devices
    .filter((p) => p.memoryActive > 0)
    .map((p) => ({ time: p.time, value: p.memoryActive }));
  const leak = memoryLeakTrend(active, total);
  if (leak?.looksLikeLeak) {
    const first = active[0] as (typeof active)[number];
    const last = active[active.length - 1] as (typeof active)[number];
    findings.push({
      analyzer: NAME,
      serverId: server.id,
      serverName: server.name,
      title: top ? `Memory leak (likely container ${top.name})` : "Memory leak",
      likelihood: pressure ? 0.85 : 0.6,
      window: { from: first.time, to: last.time },
      summary: `Active memory grew steadily by ${gib(leak.bytesPerHour)} per hour (r² ${round(leak.r2, 2)}) from ${windowText({ from: first.time, to: last.time })}.`,
      evidence: [
        {
          kind: "metric",
          label: "memory_active",
          window: { from: first.time, to: last.time },
          min: first.value,
          max: last.value,
          unit: "bytes",
          text: `active memory ${gib(first.value)} → ${gib(last.value)}, ${round(leak.risingShare * 100)} % of steps rising`,
        },
      ],
      remediation: [
        {
          priority: 1,
          title: "Restart the leaking service to reclaim memory",
          templateKey: "builtin.restart-service",
          note: "Buys time; the leak returns until its cause is fixed. Name the unit when you start the run.",
        },
      ],
      alertIds: [],
    });
    steps.push({
      analyzer: NAME,
      serverName: server.name,
      checked: "active memory trend (linear fit)",
      showed: `+${gib(leak.bytesPerHour)}/h, r² ${round(leak.r2, 2)}`,
      outcome: "finding",
    });
  } else {
    steps.push({
      analyzer: NAME,
      serverName: server.name,
      checked: "active memory trend (linear fit)",
      showed: leak
        ? `slope ${gib(leak.bytesPerHour)}/h, r² ${round(leak.r2, 2)}: no steady climb`
        : "too few samples",
      outcome: leak ? "ruled_out" : "no_data",
    });
  }
  return { findings, steps };
}

function topContainer(input: ServerEvidence) {
  const last = input.devices[input.devices.length - 1];
  let best: { name: string; bytes: number } | undefined;
  for (const [, name, , , memory] of last?.detail.containers ?? [])
    if (!best || memory > best.bytes) best = { name, bytes: memory };
  return best && best.bytes > 0 ? best : undefined;
}
