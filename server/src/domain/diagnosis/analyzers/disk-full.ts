import {
  type AnalyzerResult,
  type Finding,
  type ReasoningStep,
  round,
  type ServerEvidence,
  windowText,
} from "../diagnosis-types.js";
import { diskTimeToFull } from "../trends.js";

const NAME = "disk_full";
const FULL_PERCENT = 90;
const FORECAST_HOURS = 72;

/**
 * Disk full, per mount: the mount's use in the window, when it crossed 90 %, and its time to full
 * from a linear fit. Inode counts are not collected yet: the step says so.
 */
export function analyzeDiskFull(input: ServerEvidence): AnalyzerResult {
  const server = input.server;
  const steps: ReasoningStep[] = [];
  const findings: Finding[] = [];
  const perMount = new Map<string, { device: string; points: { time: Date; value: number }[] }>();
  for (const point of input.devices) {
    for (const [mount, device, , total, used] of point.detail.fs ?? []) {
      if (total <= 0) continue;
      const entry = perMount.get(mount) ?? { device, points: [] };
      entry.points.push({ time: point.time, value: (100 * used) / total });
      perMount.set(mount, entry);
    }
  }
  if (perMount.size === 0) {
    return {
      findings,
      steps: [
        {
          analyzer: NAME,
          serverName: server.name,
          checked: "filesystem use per mount",
          showed: "no per-mount samples in the window",
          outcome: "no_data",
        },
      ],
    };
  }
  for (const [mount, { device, points }] of perMount) {
    const last = points[points.length - 1] as (typeof points)[number];
    const first = points[0] as (typeof points)[number];
    const forecast = diskTimeToFull(points);
    const crossing = points.find(
      (p, i) =>
        p.value >= FULL_PERCENT &&
        (i === 0 || (points[i - 1] as (typeof points)[number]).value < FULL_PERCENT),
    );
    const full = last.value >= FULL_PERCENT;
    const soon = forecast?.hoursToFull !== undefined && forecast.hoursToFull <= FORECAST_HOURS;
    if (!full && !soon) {
      steps.push({
        analyzer: NAME,
        serverName: server.name,
        checked: `use of ${mount}`,
        showed: `${round(last.value)} % used${forecast?.hoursToFull !== undefined ? `, full in ${round(forecast.hoursToFull)} h` : ", not growing"}`,
        outcome: "ruled_out",
      });
      continue;
    }
    const from = crossing?.time ?? first.time;
    const window = { from, to: last.time };
    const evidence: Finding["evidence"][number][] = [
      {
        kind: "metric",
        label: `disk_used_percent ${mount}`,
        window: { from: first.time, to: last.time },
        min: round(first.value),
        max: round(last.value),
        unit: "%",
        text: `${mount} (${device}) went from ${round(first.value)} % to ${round(last.value)} % between ${windowText({ from: first.time, to: last.time })}`,
      },
    ];
    if (crossing)
      evidence.push({
        kind: "fact",
        label: `crossed ${FULL_PERCENT} %`,
        window: { from: crossing.time, to: crossing.time },
        text: `${mount} crossed ${FULL_PERCENT} % at ${crossing.time.toISOString()}`,
      });
    if (forecast?.hoursToFull !== undefined)
      evidence.push({
        kind: "fact",
        label: "time to full",
        text: `growing ${round(forecast.slopePerHour, 2)} points per hour (r² ${round(forecast.r2, 2)}): full in about ${round(forecast.hoursToFull)} h`,
      });
    findings.push({
      analyzer: NAME,
      serverId: server.id,
      serverName: server.name,
      title: full
        ? `Disk ${mount} is ${round(last.value)} % full`
        : `Disk ${mount} fills within ${round(forecast?.hoursToFull ?? 0)} h`,
      likelihood: full ? Math.min(0.97, 0.7 + (last.value - FULL_PERCENT) / 30 + (crossing ? 0.05 : 0)) : 0.5,
      window,
      summary: `${mount} (${device}) is ${round(last.value)} % used${crossing ? `; it crossed ${FULL_PERCENT} % at ${crossing.time.toISOString()}` : ""}.`,
      evidence,
      remediation: [
        {
          priority: 1,
          title: `See what fills ${mount}`,
          templateKey: "builtin.disk-usage",
          parameters: { warn_percent: "80" },
          note: "Read-only report of every filesystem's use.",
        },
        {
          priority: 2,
          title: "Remove unused Docker images",
          templateKey: "builtin.docker-prune",
          parameters: { what: "images", volumes: "false" },
          note: "Deletes images no container uses; needs confirmation and approval.",
        },
      ],
      alertIds: input.alerts
        .filter((a) => a.ruleKey === "builtin:disk_used" && (a.labels.mount ?? mount) === mount)
        .map((a) => a.id),
    });
    steps.push({
      analyzer: NAME,
      serverName: server.name,
      checked: `use of ${mount}`,
      showed: `${round(last.value)} % used`,
      outcome: "finding",
    });
  }
  steps.push({
    analyzer: NAME,
    serverName: server.name,
    checked: "inode use",
    showed: "the agent does not report inodes yet",
    outcome: "no_data",
  });
  return { findings, steps };
}
