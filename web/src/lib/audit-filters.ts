/** The audit log's filters as the page keeps them in its URL. */
export type AuditFilterValues = {
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  /** ISO times, or "". */
  readonly since: string;
  readonly until: string;
};

export const AUDIT_FILTER_KEYS = ["actor", "action", "target", "since", "until"] as const;
export const NO_AUDIT_FILTERS: AuditFilterValues = {
  actor: "",
  action: "",
  target: "",
  since: "",
  until: "",
};

const validTime = (value: string) => (value && !Number.isNaN(new Date(value).getTime()) ? value : "");

/** Reads the filters from search parameters; a time that does not parse is dropped. */
export function parseAuditFilters(params: { get(name: string): string | null }): AuditFilterValues {
  return {
    actor: params.get("actor")?.trim() ?? "",
    action: params.get("action")?.trim() ?? "",
    target: params.get("target")?.trim() ?? "",
    since: validTime(params.get("since") ?? ""),
    until: validTime(params.get("until") ?? ""),
  };
}

/** The search string for these filters ("" when none is set). */
export function auditFilterSearch(values: AuditFilterValues): string {
  const params = new URLSearchParams();
  for (const key of AUDIT_FILTER_KEYS) if (values[key]) params.set(key, values[key]);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The file name of an export made now. */
export function auditExportName(format: "csv" | "jsonl", now: Date): string {
  return `ocore-audit-${now.toISOString().slice(0, 19).replaceAll(":", "")}Z.${format}`;
}
