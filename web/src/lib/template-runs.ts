// The run form's and the run pages' pure helpers: parameter inputs and checks, rates, state tones
// and progress (the template editor's are in templates.ts).

/** What a parameter's input is in the run form. */
export type ParameterInput =
  | { kind: "text"; pattern?: string }
  | { kind: "select"; options: string[] }
  | { kind: "number"; min: number; max: number }
  | { kind: "checkbox" };

/**
 * The input a parameter gets. A list parameter's options are computed per host by the server
 * (the preview's list_options); the values every previewed host offers are the choices.
 */
export function parameterInput(
  p: {
    type: string;
    pattern: string;
    allowedValues: readonly string[];
    min: bigint;
    max: bigint;
    name: string;
  },
  listOptionsPerHost: readonly Readonly<Record<string, string>>[] = [],
): ParameterInput {
  switch (p.type) {
    case "enum":
      return { kind: "select", options: [...p.allowedValues] };
    case "integer":
      return { kind: "number", min: Number(p.min), max: Number(p.max) };
    case "boolean":
      return { kind: "checkbox" };
    case "list": {
      const perHost = listOptionsPerHost
        .map((options) => options[p.name])
        .filter((v): v is string => v !== undefined)
        .map((v) => v.split(",").filter(Boolean));
      if (perHost.length === 0) return { kind: "text" };
      const common = (perHost[0] ?? []).filter((v) => perHost.every((list) => list.includes(v)));
      return { kind: "select", options: common };
    }
    default:
      return p.pattern ? { kind: "text", pattern: p.pattern } : { kind: "text" };
  }
}

/** A client-side check of a value against its parameter (the server checks again). */
export function checkParameterValue(
  p: {
    type: string;
    pattern: string;
    allowedValues: readonly string[];
    min: bigint;
    max: bigint;
    required: boolean;
  },
  value: string,
): string | undefined {
  if (value === "") return p.required ? "is required" : undefined;
  switch (p.type) {
    case "integer": {
      if (!/^-?\d+$/.test(value)) return "must be a whole number";
      const n = BigInt(value);
      return n < p.min || n > p.max ? `must be between ${p.min} and ${p.max}` : undefined;
    }
    case "enum":
      return p.allowedValues.includes(value) ? undefined : `must be one of ${p.allowedValues.join(", ")}`;
    case "boolean":
      return value === "true" || value === "false" ? undefined : "must be true or false";
    case "string": {
      if (!p.pattern) return undefined;
      try {
        return new RegExp(`^(?:${p.pattern})$`, "u").test(value) ? undefined : `must match ${p.pattern}`;
      } catch {
        return undefined;
      }
    }
    default:
      return undefined;
  }
}

/** A concurrency or error budget as the server reads it: "N" or "N%" (concurrency: 1 to 100 %). */
export function checkRate(value: string, what: "concurrency" | "errors"): string | undefined {
  const v = value.trim();
  if (v === "") return undefined;
  const match = /^(\d+)(%?)$/.exec(v);
  if (!match) return 'must be a number or a percentage ("2" or "10%")';
  const n = Number(match[1]);
  if (what === "concurrency" && n === 0) return "must be at least 1";
  if (match[2] && n > 100) return "must be at most 100%";
  return undefined;
}

const FAILED_STATES = new Set(["failed", "timed_out", "unreachable"]);
const ENDED_STATES = new Set([
  "succeeded",
  "failed",
  "timed_out",
  "unreachable",
  "cancelled",
  "skipped",
  "refused",
]);

/** The tone of a host or run state, for its badge. */
export function stateTone(state: string): "ok" | "bad" | "busy" | "idle" {
  if (state === "succeeded") return "ok";
  if (FAILED_STATES.has(state) || state === "stopped") return "bad";
  if (state === "running" || state === "pending") return "busy";
  return "idle";
}

export const isHostEnded = (state: string) => ENDED_STATES.has(state);

/** The run's progress in one line: "3 of 5 hosts done · 2 succeeded · 1 failed · 2 running". */
export function runProgress(run: {
  total: number;
  succeeded: number;
  failed: number;
  pending: number;
  running: number;
  skipped: number;
  refused: number;
}): string {
  const done = run.succeeded + run.failed + run.skipped;
  const parts = [
    `${done} of ${run.total} host${run.total === 1 ? "" : "s"} done`,
    `${run.succeeded} succeeded`,
  ];
  if (run.failed) parts.push(`${run.failed} failed`);
  if (run.running) parts.push(`${run.running} running`);
  if (run.pending) parts.push(`${run.pending} pending`);
  if (run.skipped) parts.push(`${run.skipped} skipped`);
  if (run.refused) parts.push(`${run.refused} refused`);
  return parts.join(" · ");
}
