import type { DevicePoint } from "../metrics/device-series.js";
import type { SeriesPoint } from "../metrics/get-series.js";

/** A time range, both ends included. */
export interface TimeWindow {
  readonly from: Date;
  readonly to: Date;
}

/** One piece of evidence: a metric window with its numbers, an alert, or a fact. */
export interface Evidence {
  readonly kind: "metric" | "alert" | "fact";
  /** What was measured, e.g. "cpu_percent" or "disk_used_percent /var". */
  readonly label: string;
  readonly window?: TimeWindow;
  readonly min?: number;
  readonly max?: number;
  /** The baseline's median for the same hours, when there is one. */
  readonly baseline?: number;
  readonly unit?: string;
  readonly alertId?: string;
  readonly text: string;
}

/** A fix: a reviewed template to run through the normal approval path, or a manual step. */
export interface Remediation {
  /** 1 = do first. */
  readonly priority: number;
  readonly title: string;
  /** A built-in or saved template's key; the report resolves it to an id when it exists. */
  readonly templateKey?: string;
  readonly templateId?: string;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly note: string;
}

export interface Finding {
  readonly analyzer: string;
  readonly serverId: string;
  readonly serverName: string;
  readonly title: string;
  /** 0–1: how likely this is the cause of what the user sees. */
  readonly likelihood: number;
  readonly window?: TimeWindow;
  readonly summary: string;
  readonly evidence: readonly Evidence[];
  readonly remediation: readonly Remediation[];
  readonly alertIds: readonly string[];
}

/** One step of the reasoning chain: what was checked, what it showed, what it concluded. */
export interface ReasoningStep {
  readonly analyzer: string;
  readonly serverName: string;
  readonly checked: string;
  readonly showed: string;
  readonly outcome: "finding" | "ruled_out" | "no_data";
}

export interface AnalyzerResult {
  readonly findings: Finding[];
  readonly steps: ReasoningStep[];
}

export interface AlertFact {
  readonly id: string;
  readonly ruleKey: string;
  readonly ruleName: string;
  readonly state: string;
  readonly severity: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number | null;
  readonly summary: string;
  readonly pendingSince: Date;
  readonly firingSince: Date | null;
  readonly resolvedAt: Date | null;
}

export interface InstanceFact {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly desiredState: string;
  readonly stateMessage: string;
  readonly updatedAt: Date;
}

/** Everything the analyzers read about one server, loaded once (gather-evidence.ts). */
export interface ServerEvidence {
  readonly server: {
    readonly id: string;
    readonly name: string;
    readonly status: string;
    readonly lastSeenAt: Date | null;
  };
  readonly now: Date;
  /** The window the user asked about. */
  readonly window: TimeWindow;
  /** Hourly rollups over the baseline history (weeks), for baselines. */
  readonly history: readonly SeriesPoint[];
  /** The window at the finest resolution that holds it. */
  readonly recent: readonly SeriesPoint[];
  /** Raw samples with per-device detail over the window (thinned). */
  readonly devices: readonly DevicePoint[];
  readonly alerts: readonly AlertFact[];
  readonly certificates: ReadonlyArray<{ readonly serial: string; readonly notAfter: Date }>;
  readonly instances: readonly InstanceFact[];
}

export type Analyzer = (evidence: ServerEvidence) => AnalyzerResult;

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function gib(bytes: number): string {
  return `${round(bytes / 2 ** 30, 2)} GiB`;
}

export function windowText(window: TimeWindow): string {
  const t = (d: Date) => d.toISOString().slice(0, 16).replace("T", " ");
  return `${t(window.from)}–${t(window.to)} UTC`;
}
