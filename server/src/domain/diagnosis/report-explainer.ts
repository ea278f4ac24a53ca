import type { DiagnosisReport } from "./build-report.js";

/**
 * What a language model may do here: read a report (already limited to what the caller may
 * see, anonymized) and the conversation so far, and answer in words. It has no tools and its
 * answer is shown as text only; nothing it says is run.
 */
export interface ReportExplainer {
  explain(input: {
    readonly question: string;
    readonly report: unknown;
    readonly history: ReadonlyArray<{ readonly question: string; readonly summary: string }>;
  }): Promise<string>;
}

/** Replaces names and addresses with stable placeholders before anything leaves the server. */
export interface Anonymizer {
  readonly hide: (text: string) => string;
  readonly reveal: (text: string) => string;
}

const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
const IPV6 = /\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b/gi;

/** Server names become server-1, server-2, …; IP addresses become ip-1, …; reveal undoes names. */
export function createAnonymizer(serverNames: readonly string[]): Anonymizer {
  const names = [...new Set(serverNames)].filter((n) => n !== "").sort((a, b) => b.length - a.length);
  const aliases = new Map(names.map((name, i) => [name, `server-${i + 1}`]));
  const ips = new Map<string, string>();
  const hide = (text: string) => {
    let out = text;
    for (const [name, alias] of aliases) out = out.split(name).join(alias);
    return out.replace(IPV4, ipAlias).replace(IPV6, ipAlias);
  };
  function ipAlias(ip: string) {
    let alias = ips.get(ip);
    if (!alias) {
      alias = `ip-${ips.size + 1}`;
      ips.set(ip, alias);
    }
    return alias;
  }
  const reveal = (text: string) => {
    let out = text;
    for (const [name, alias] of [...aliases].reverse())
      out = out.replace(new RegExp(`\\b${alias}\\b`, "g"), name);
    return out;
  };
  return { hide, reveal };
}

/** The report as the model sees it: findings, fixes and steps, ids dropped, names hidden. */
export function reportForModel(report: DiagnosisReport, anonymizer: Anonymizer): unknown {
  return JSON.parse(
    anonymizer.hide(
      JSON.stringify({
        summary: report.summary,
        window: report.window,
        baselines: report.baselines.map((b) => ({ server: b.serverName, text: b.text })),
        findings: report.findings.map((f) => ({
          server: f.serverName,
          title: f.title,
          likelihood: f.likelihood,
          window: f.window,
          summary: f.summary,
          evidence: f.evidence.map((e) => e.text),
        })),
        alerts: report.alerts.map((a) => ({
          server: a.serverName,
          rule: a.ruleName,
          state: a.state,
          summary: a.summary,
        })),
        remediation: report.remediation.map((r) => ({
          priority: r.priority,
          title: r.title,
          template: r.templateKey ?? "",
          server: r.serverName,
        })),
        steps: report.steps,
      }),
    ),
  );
}
