import type { DiagnosisReport } from "./build-report.js";

const when = (d: Date | string) => new Date(d).toISOString().slice(0, 16).replace("T", " ");

/** The report as Markdown, for export: summary, findings with evidence, alerts, fixes, reasoning. */
export function reportMarkdown(question: string, report: DiagnosisReport, explanation = ""): string {
  const lines = [
    `# Diagnosis: ${question}`,
    "",
    `Window: ${when(report.window.from)} – ${when(report.window.to)} UTC`,
    "",
    report.summary,
    "",
  ];
  if (explanation) lines.push("## Explanation", "", explanation, "");
  lines.push("## Baseline", "", ...report.baselines.map((b) => `- **${b.serverName}**: ${b.text}`), "");
  lines.push("## Findings", "");
  if (report.findings.length === 0) lines.push("None.", "");
  report.findings.forEach((f, i) => {
    lines.push(
      `### ${i + 1}. ${f.title} — ${f.serverName} (${Math.round(f.likelihood * 100)} %)`,
      "",
      f.summary,
      "",
    );
    for (const e of f.evidence) lines.push(`- ${e.text}`);
    lines.push("");
  });
  if (report.alerts.length > 0) {
    lines.push(
      "## Open alerts",
      "",
      ...report.alerts.map(
        (a) => `- ${a.serverName}: ${a.ruleName} (${a.state}, ${a.severity}) — ${a.summary}`,
      ),
      "",
    );
  }
  lines.push("## Fixes", "");
  for (const r of report.remediation) {
    lines.push(
      `${r.priority}. ${r.title} on ${r.serverName}${r.templateKey ? ` — template \`${r.templateKey}\`` : ""}: ${r.note}`,
    );
  }
  lines.push(
    "",
    "## Reasoning",
    "",
    "| analyzer | server | checked | showed | outcome |",
    "|---|---|---|---|---|",
  );
  for (const s of report.steps)
    lines.push(`| ${s.analyzer} | ${s.serverName} | ${s.checked} | ${s.showed} | ${s.outcome} |`);
  return `${lines.join("\n")}\n`;
}
