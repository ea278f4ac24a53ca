import { analyzeAgentConnectivity } from "./analyzers/agent-connectivity.js";
import { analyzeCertificateExpiry } from "./analyzers/certificate-expiry.js";
import { analyzeContainerRestarts } from "./analyzers/container-restarts.js";
import { analyzeCpuSaturation } from "./analyzers/cpu-saturation.js";
import { analyzeDiskFull } from "./analyzers/disk-full.js";
import { analyzeDockerDaemon } from "./analyzers/docker-daemon.js";
import { analyzeMemoryPressure } from "./analyzers/memory-pressure.js";
import { analyzeOdooInstances } from "./analyzers/odoo-instances.js";
import { buildBaseline } from "./baseline.js";
import type {
  AlertFact,
  Analyzer,
  Finding,
  ReasoningStep,
  Remediation,
  ServerEvidence,
  TimeWindow,
} from "./diagnosis-types.js";
import { round } from "./diagnosis-types.js";

/** Every analyzer, in the order the reasoning chain lists them. */
export const ANALYZERS: ReadonlyArray<readonly [string, Analyzer]> = [
  ["agent_connectivity", analyzeAgentConnectivity],
  ["disk_full", analyzeDiskFull],
  ["memory_pressure", analyzeMemoryPressure],
  ["cpu_saturation", analyzeCpuSaturation],
  ["container_restarts", analyzeContainerRestarts],
  ["docker_daemon", analyzeDockerDaemon],
  ["certificate_expiry", analyzeCertificateExpiry],
  ["odoo_instances", analyzeOdooInstances],
];

/** Words in the question that point at an analyzer; a match raises its findings a little. */
const HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(disk|space|full|storage|inode|mount)/i, "disk_full"],
  [/\b(mem|ram|oom|swap|leak)/i, "memory_pressure"],
  [/\b(cpu|load|slow|busy|hot)/i, "cpu_saturation"],
  [/\b(restart|crash|loop|container|oom)/i, "container_restarts"],
  [/\bdocker/i, "docker_daemon"],
  [/\b(offline|unreachable|agent|down|lost)/i, "agent_connectivity"],
  [/\b(cert|tls|expir)/i, "certificate_expiry"],
  [/\b(odoo|instance|cron|mail|worker)/i, "odoo_instances"],
];
const HINT_BOOST = 0.05;

export interface BaselineAssessment {
  readonly serverId: string;
  readonly serverName: string;
  readonly historyHours: number;
  readonly text: string;
}

export interface DiagnosisReport {
  readonly question: string;
  readonly window: TimeWindow;
  readonly summary: string;
  readonly baselines: readonly BaselineAssessment[];
  readonly findings: readonly Finding[];
  readonly alerts: readonly (AlertFact & { readonly serverName: string })[];
  readonly remediation: ReadonlyArray<
    Remediation & { readonly serverId: string; readonly serverName: string; readonly finding: string }
  >;
  readonly steps: readonly ReasoningStep[];
}

/**
 * Runs every analyzer over every server's evidence and assembles the report: findings ranked by
 * likelihood (nudged by the words of the question), the alerts they aggregate, the fixes in
 * priority order, and the reasoning chain. Pure: same evidence, same report.
 */
export function buildReport(
  question: string,
  window: TimeWindow,
  servers: readonly ServerEvidence[],
): DiagnosisReport {
  const hinted = new Set(HINTS.filter(([pattern]) => pattern.test(question)).map(([, analyzer]) => analyzer));
  const findings: Finding[] = [];
  const steps: ReasoningStep[] = [];
  for (const evidence of servers) {
    for (const [name, analyze] of ANALYZERS) {
      const result = analyze(evidence);
      steps.push(...result.steps);
      for (const finding of result.findings) {
        findings.push(
          hinted.has(name)
            ? { ...finding, likelihood: Math.min(0.99, finding.likelihood + HINT_BOOST) }
            : finding,
        );
      }
    }
  }
  // An offline agent explains the silence of everything else on that server; say so first.
  findings.sort((a, b) => b.likelihood - a.likelihood || a.title.localeCompare(b.title));
  const alerts = servers.flatMap((s) =>
    s.alerts.filter((a) => a.state !== "resolved").map((a) => ({ ...a, serverName: s.server.name })),
  );
  const remediation = findings
    .flatMap((finding, rank) =>
      finding.remediation.map((fix) => ({
        ...fix,
        serverId: finding.serverId,
        serverName: finding.serverName,
        finding: finding.title,
        order: rank * 10 + fix.priority,
      })),
    )
    .sort((a, b) => a.order - b.order)
    .map(({ order: _order, ...fix }, index) => ({ ...fix, priority: index + 1 }));
  const baselines = servers.map(assessBaseline);
  const top = findings[0];
  const summary = top
    ? `Most likely: ${top.title} on ${top.serverName} (${round(top.likelihood * 100, 0)} %). ${top.summary}`
    : `No analyzer found a cause on ${servers.length} server(s) in the window; ${steps.filter((s) => s.outcome === "ruled_out").length} checks ruled causes out.`;
  return { question, window, summary, baselines, findings, alerts, remediation, steps };
}

function assessBaseline(evidence: ServerEvidence): BaselineAssessment {
  const hours = evidence.history.length;
  const base = { serverId: evidence.server.id, serverName: evidence.server.name, historyHours: hours };
  if (hours < 24)
    return {
      ...base,
      text: `Only ${hours} hours of history: judged by absolute thresholds, not by its own normal.`,
    };
  const cpu = buildBaseline(evidence.history.map((p) => ({ time: p.time, value: p.cpuPercent })));
  const memory = buildBaseline(
    evidence.history
      .filter((p) => p.memoryTotal > 0)
      .map((p) => ({ time: p.time, value: (100 * p.memoryUsed) / p.memoryTotal })),
  );
  const disk = buildBaseline(evidence.history.map((p) => ({ time: p.time, value: p.diskUsedPercent })));
  return {
    ...base,
    text: `Normal over ${round(hours / 24, 0)} days: CPU ${round(cpu.overall.median)} % (±${round(cpu.overall.mad)}), memory ${round(memory.overall.median)} % (±${round(memory.overall.mad)}), fullest disk ${round(disk.overall.median)} %; recent trend (EWMA of the last day) CPU ${round(cpu.ewma)} %.`,
  };
}
