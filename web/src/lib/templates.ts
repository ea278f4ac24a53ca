import type { ConnectError } from "@connectrpc/connect";

/** Template types as the server accepts them (template-definition.ts). */
export const TEMPLATE_TYPES = ["diagnostic", "maintenance", "deployment", "recovery"] as const;
export const INTERPRETERS = ["bash", "sh", "python3"] as const;
export const PARAMETER_TYPES = ["string", "enum", "integer", "boolean", "list"] as const;

/** A parameter as the form edits it: every field a string or boolean, bounds as text. */
export interface ParameterDraft {
  /** The row's identity in the form (not sent). */
  rowId: number;
  name: string;
  type: string;
  description: string;
  required: boolean;
  defaultValue: string;
  pattern: string;
  /** enum: the allowed values, comma-separated. */
  allowedValues: string;
  min: string;
  max: string;
  listSource: string;
  confirm: boolean;
}

/** A definition as the form edits it: lists as one item a line. */
export interface DefinitionDraft {
  name: string;
  type: string;
  scope: string;
  description: string;
  interpreter: string;
  script: string;
  /** One argument a line. */
  argv: string;
  /** NAME=value, one a line. */
  env: string;
  runAs: string;
  timeoutSeconds: string;
  memoryMaxMb: string;
  cpuQuotaPercent: string;
  tasksMax: string;
  /** One absolute path a line. */
  writePaths: string;
  /** Examples as `title | name=value, name=value | note`, one a line. */
  examples: string;
  parameters: ParameterDraft[];
}

/** The shape of the API's TemplateDefinition this module reads and writes (a plain object). */
export interface DefinitionShape {
  name: string;
  type: string;
  scope: string;
  description: string;
  interpreter: string;
  script: string;
  argv: string[];
  env: Record<string, string>;
  runAs: string;
  timeoutSeconds: number;
  memoryMaxMb: number;
  cpuQuotaPercent: number;
  tasksMax: number;
  writePaths: string[];
  examples: { title: string; parameters: Record<string, string>; note: string }[];
  parameters: {
    name: string;
    type: string;
    description: string;
    required: boolean;
    defaultValue: string;
    pattern: string;
    allowedValues: string[];
    min: bigint;
    max: bigint;
    listSource: string;
    confirm: boolean;
  }[];
}

let nextRowId = 1;

export function emptyParameter(): ParameterDraft {
  return {
    rowId: nextRowId++,
    name: "",
    type: "string",
    description: "",
    required: false,
    defaultValue: "",
    pattern: "",
    allowedValues: "",
    min: "0",
    max: "0",
    listSource: "",
    confirm: false,
  };
}

export function emptyDraft(): DefinitionDraft {
  return {
    name: "",
    type: "diagnostic",
    scope: "",
    description: "",
    interpreter: "bash",
    script: "",
    argv: "",
    env: "",
    runAs: "nobody",
    timeoutSeconds: "60",
    memoryMaxMb: "256",
    cpuQuotaPercent: "50",
    tasksMax: "64",
    writePaths: "",
    examples: "",
    parameters: [],
  };
}

const lines = (text: string) =>
  text
    .split("\n")
    .map((line) => line.replace(/\r$/, ""))
    .filter((line) => line.trim() !== "");

/** A whole number from a form field; anything else becomes NaN so the server names the field. */
const whole = (text: string): number => (/^\s*-?\d+\s*$/.test(text) ? Number(text) : Number.NaN);

const bigOrZero = (text: string): bigint => (/^\s*-?\d+\s*$/.test(text) ? BigInt(text.trim()) : 0n);

/** `a=1, b=2` → { a: "1", b: "2" } (values keep inner spaces; pairs split at commas). */
export function parsePairs(text: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const part of text.split(",")) {
    const at = part.indexOf("=");
    if (at <= 0) continue;
    pairs[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return pairs;
}

/** The form's draft as the API's definition. Parsing stays lenient: the server validates and names fields. */
export function draftToDefinition(draft: DefinitionDraft): DefinitionShape {
  const env: Record<string, string> = {};
  for (const line of lines(draft.env)) {
    const at = line.indexOf("=");
    if (at < 0) env[line.trim()] = "";
    else env[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  return {
    name: draft.name.trim(),
    type: draft.type,
    scope: draft.scope.trim(),
    description: draft.description,
    interpreter: draft.interpreter,
    script: draft.script,
    argv: lines(draft.argv),
    env,
    runAs: draft.runAs.trim(),
    timeoutSeconds: whole(draft.timeoutSeconds),
    memoryMaxMb: whole(draft.memoryMaxMb),
    cpuQuotaPercent: whole(draft.cpuQuotaPercent),
    tasksMax: whole(draft.tasksMax),
    writePaths: lines(draft.writePaths).map((p) => p.trim()),
    examples: lines(draft.examples).map((line) => {
      const [title = "", parameters = "", ...note] = line.split("|");
      return { title: title.trim(), parameters: parsePairs(parameters), note: note.join("|").trim() };
    }),
    parameters: draft.parameters.map((p) => ({
      name: p.name.trim(),
      type: p.type,
      description: p.description,
      required: p.required,
      defaultValue: p.defaultValue,
      pattern: p.type === "string" ? p.pattern : "",
      allowedValues:
        p.type === "enum"
          ? p.allowedValues
              .split(",")
              .map((v) => v.trim())
              .filter(Boolean)
          : [],
      min: p.type === "integer" ? bigOrZero(p.min) : 0n,
      max: p.type === "integer" ? bigOrZero(p.max) : 0n,
      listSource: p.type === "list" ? p.listSource : "",
      confirm: p.type === "boolean" ? p.confirm : false,
    })),
  };
}

/** A stored definition as the form's draft (to start a new version from it). */
export function definitionToDraft(d: DefinitionShape): DefinitionDraft {
  return {
    name: d.name,
    type: d.type,
    scope: d.scope,
    description: d.description,
    interpreter: d.interpreter,
    script: d.script,
    argv: d.argv.join("\n"),
    env: Object.entries(d.env)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n"),
    runAs: d.runAs,
    timeoutSeconds: String(d.timeoutSeconds),
    memoryMaxMb: String(d.memoryMaxMb),
    cpuQuotaPercent: String(d.cpuQuotaPercent),
    tasksMax: String(d.tasksMax),
    writePaths: d.writePaths.join("\n"),
    examples: d.examples
      .map(
        (e) =>
          `${e.title} | ${Object.entries(e.parameters)
            .map(([k, v]) => `${k}=${v}`)
            .join(", ")} | ${e.note}`,
      )
      .join("\n"),
    parameters: d.parameters.map((p) => ({
      rowId: nextRowId++,
      name: p.name,
      type: p.type,
      description: p.description,
      required: p.required,
      defaultValue: p.defaultValue,
      pattern: p.pattern,
      allowedValues: p.allowedValues.join(", "),
      min: String(p.min),
      max: String(p.max),
      listSource: p.listSource,
      confirm: p.confirm,
    })),
  };
}

/**
 * The field a refused save names, in the form's terms: the server sends it in `x-ocore-field`
 * (`definition.parameters.0.pattern`) and starts its message with it. Returns the path without
 * the `definition.` prefix ("parameters.0.pattern", "name"), and the message without the field.
 */
export function fieldErrorOf(
  error: ConnectError | null | undefined,
): { field: string; message: string } | undefined {
  if (!error) return undefined;
  let field = "";
  try {
    field = decodeURIComponent(error.metadata.get("x-ocore-field") ?? "");
  } catch {
    field = "";
  }
  let message = error.rawMessage;
  if (field && message.startsWith(`${field}: `)) message = message.slice(field.length + 2);
  if (!field) {
    const match = /^([a-z_][\w.]*): (.*)$/is.exec(message);
    if (match?.[1] && match[2]) [field, message] = [match[1], match[2]];
  }
  if (!field) return undefined;
  // The API spells nested fields in snake_case for some (default_value); the form uses camelCase.
  const normalized = field
    .replace(/^definition\./, "")
    .replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return { field: normalized, message };
}

/** The error of `field` (exact, or one of its children like `env.FOO` for `env`). */
export function errorFor(
  fieldError: { field: string; message: string } | undefined,
  field: string,
): string | undefined {
  if (!fieldError) return undefined;
  const f = fieldError.field;
  return f === field || f.startsWith(`${field}.`) ? fieldError.message : undefined;
}

/** A definition as text lines for comparing versions (every field; the script last, as is). */
export function definitionLines(d: DefinitionShape): string[] {
  const out = [
    `name: ${d.name}`,
    `type: ${d.type}`,
    `scope: ${d.scope || "(any host)"}`,
    `description: ${d.description}`,
    `interpreter: ${d.interpreter}`,
    `run as: ${d.runAs}`,
    `timeout: ${d.timeoutSeconds} s, memory ${d.memoryMaxMb} MB, cpu ${d.cpuQuotaPercent} %, tasks ${d.tasksMax}`,
    `write paths: ${d.writePaths.join(" ") || "(none)"}`,
    ...d.argv.map((a, i) => `argv[${i}]: ${a}`),
    ...Object.entries(d.env)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `env ${k}=${v}`),
    ...d.parameters.map(
      (p) =>
        `parameter ${p.name}: ${p.type}${p.required ? " required" : ""}${p.defaultValue ? ` default=${p.defaultValue}` : ""}` +
        `${p.pattern ? ` pattern=${p.pattern}` : ""}${p.allowedValues.length ? ` values=${p.allowedValues.join(",")}` : ""}` +
        `${p.type === "integer" ? ` ${p.min}..${p.max}` : ""}${p.listSource ? ` from=${p.listSource}` : ""}${p.confirm ? " confirm" : ""}`,
    ),
    ...d.examples.map((e) => `example ${e.title}: ${JSON.stringify(e.parameters)} ${e.note}`),
    "script:",
    ...d.script.split("\n"),
  ];
  return out;
}

export type DiffLine = { readonly kind: "same" | "added" | "removed"; readonly text: string };

/**
 * A line diff (longest common subsequence) from `before` to `after`. Inputs past 2,000 lines each
 * are compared as all removed and all added rather than spending quadratic memory.
 */
export function lineDiff(before: readonly string[], after: readonly string[]): DiffLine[] {
  const n = before.length;
  const m = after.length;
  if (n > 2000 || m > 2000) {
    return [
      ...before.map((text) => ({ kind: "removed" as const, text })),
      ...after.map((text) => ({ kind: "added" as const, text })),
    ];
  }
  const table: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = table[i] as number[];
      row[j] =
        before[i] === after[j]
          ? (table[i + 1]?.[j + 1] ?? 0) + 1
          : Math.max(table[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (before[i] === after[j]) {
      out.push({ kind: "same", text: before[i] as string });
      i++;
      j++;
    } else if ((table[i + 1]?.[j] ?? 0) >= (table[i]?.[j + 1] ?? 0)) {
      out.push({ kind: "removed", text: before[i++] as string });
    } else {
      out.push({ kind: "added", text: after[j++] as string });
    }
  }
  while (i < n) out.push({ kind: "removed", text: before[i++] as string });
  while (j < m) out.push({ kind: "added", text: after[j++] as string });
  return out;
}

/**
 * Whether `user` may review `version` under the four-eyes rule: it is pending, someone else
 * wrote it, and the user holds templates.approve. Returns the reason when not.
 */
export function reviewBlock(
  version: { reviewState: string; author: string },
  user: { username: string; permissions: readonly string[] } | undefined,
): string | undefined {
  if (version.reviewState !== "pending") return `This version is already ${version.reviewState}.`;
  if (!user) return "Sign in to review.";
  if (!user.permissions.includes("templates.approve"))
    return "Reviewing needs the templates.approve permission.";
  if (user.username === version.author)
    return "You wrote this version: a second person must review it (four-eyes rule).";
  return undefined;
}
