import { createHash } from "node:crypto";
import { z } from "zod";
import { AppError } from "../../platform/errors/app-error.js";
import { parseInput } from "../alerts/parse-input.js";
import { parseSelector } from "../auth/selector.js";
import { placeholdersIn } from "./placeholders.js";

export const TEMPLATE_TYPES = ["diagnostic", "maintenance", "deployment", "recovery"] as const;
export const INTERPRETERS = ["bash", "sh", "python3"] as const;
export const PARAMETER_TYPES = ["string", "enum", "integer", "boolean", "list"] as const;
export const LIST_SOURCES = ["instances", "ports"] as const;

/** Longest script: it travels as one argv element (Linux allows 128 KiB per element). */
export const MAX_SCRIPT_BYTES = 64 * 1024;

/**
 * Environment names a template may not set: they change how the interpreter or the dynamic
 * loader reads code (BASH_ENV, LD_PRELOAD, PYTHONSTARTUP, …), or belong to oCore (OCORE_*).
 */
const RESERVED_ENV =
  /^(OCORE_.*|BASH_ENV|ENV|BASH_FUNC_.*|SHELLOPTS|BASHOPTS|IFS|PS4|CDPATH|GLOBIGNORE|PATH|HOME|LD_.*|PYTHON.*|PERL5.*|NODE_OPTIONS)$/;

/** C0 control characters but tab, and DEL: no value may hold a newline, NUL or escape. */
const hasControlChars = (value: string) =>
  [...value].some((c) => {
    const code = c.charCodeAt(0);
    return (code < 0x20 && code !== 0x09) || code === 0x7f;
  });
const text = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !hasControlChars(value), "must not contain control characters (newline, NUL, …)");

const parameterSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, "must match [a-z][a-z0-9_]{0,31}"),
    type: z.enum(PARAMETER_TYPES, { message: `must be one of ${PARAMETER_TYPES.join(", ")}` }),
    description: text(500),
    required: z.boolean(),
    defaultValue: text(4096),
    pattern: z.string().max(500, "must be at most 500 characters"),
    allowedValues: z.array(text(256)).max(100, "must have at most 100 values"),
    min: z.number().int(),
    max: z.number().int(),
    listSource: z.union([z.literal(""), z.enum(LIST_SOURCES)]),
    confirm: z.boolean(),
  })
  .superRefine((p, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (p.pattern !== "") {
      if (p.type !== "string") issue("pattern", "is only for string parameters");
      try {
        new RegExp(p.pattern, "u");
      } catch (error) {
        issue("pattern", `is not a valid regular expression (${(error as Error).message})`);
      }
    }
    if (p.type === "enum" && p.allowedValues.length === 0)
      issue("allowedValues", "must list the allowed values");
    if (p.type !== "enum" && p.allowedValues.length > 0)
      issue("allowedValues", "is only for enum parameters");
    if (p.type === "integer" && p.min >= p.max)
      issue("max", "must be greater than min (integer parameters need bounds)");
    if (p.type === "list" && p.listSource === "")
      issue("listSource", `must be one of ${LIST_SOURCES.join(", ")}`);
    if (p.type !== "list" && p.listSource !== "") issue("listSource", "is only for list parameters");
    if (p.confirm && p.type !== "boolean") issue("confirm", "is only for boolean parameters");
  });

export type TemplateParameter = z.output<typeof parameterSchema>;

const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;

const definitionSchema = z.object({
  name: text(120).min(1, "is required"),
  type: z.enum(TEMPLATE_TYPES, { message: `must be one of ${TEMPLATE_TYPES.join(", ")}` }),
  scope: z.string().max(8192),
  description: z.string().max(4000, "must be at most 4000 characters"),
  examples: z
    .array(
      z.object({
        title: text(120).min(1, "is required"),
        parameters: z.record(z.string(), text(4096)),
        note: z.string().max(1000, "must be at most 1000 characters"),
      }),
    )
    .max(20, "must have at most 20 examples"),
  interpreter: z.enum(INTERPRETERS, { message: `must be one of ${INTERPRETERS.join(", ")}` }),
  script: z
    .string()
    .min(1, "is required")
    .refine((s) => Buffer.byteLength(s) <= MAX_SCRIPT_BYTES, `must be at most ${MAX_SCRIPT_BYTES} bytes`)
    .refine((s) => !s.includes("\u0000"), "must not contain NUL"),
  argv: z.array(text(4096)).max(64, "must have at most 64 arguments"),
  env: z
    .record(z.string(), text(4096))
    .refine((env) => Object.keys(env).length <= 64, "must have at most 64 variables"),
  runAs: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a user name ([a-z_][a-z0-9_-]{0,31})"),
  timeoutSeconds: z.number().int().min(1, "must be at least 1").max(86_400, "must be at most 86400 (a day)"),
  memoryMaxMb: z.number().int().min(0).max(1_048_576, "must be at most 1048576"),
  cpuQuotaPercent: z.number().int().min(0).max(10_000, "must be at most 10000"),
  tasksMax: z.number().int().min(0).max(100_000, "must be at most 100000"),
  writePaths: z
    .array(
      z
        .string()
        .regex(/^\/[A-Za-z0-9._/@+-]*$/, "must be an absolute path of letters, digits and ._/@+-")
        .refine((p) => !p.split("/").includes(".."), "must not contain .."),
    )
    .max(32, "must have at most 32 paths"),
  parameters: z.array(parameterSchema).max(32, "must have at most 32 parameters"),
});

export type TemplateDefinition = z.output<typeof definitionSchema>;

/**
 * Validates a definition at the API boundary: its shape (zod), then what zod cannot see alone:
 * the scope selector, unique parameter names, defaults and examples that fit their parameters,
 * and placeholders that all name a host fact, a tag or a parameter. Errors name the field as the
 * API spells it (`definition.parameters.0.pattern`).
 */
export function parseDefinition(input: unknown): TemplateDefinition {
  const definition = parseInput(definitionSchema, input, "definition");
  parseSelector(definition.scope, "definition.scope");
  for (const name of Object.keys(definition.env)) {
    const field = `definition.env.${name.slice(0, 70)}`;
    if (!ENV_NAME.test(name)) throw AppError.invalid(field, "names must match [A-Z_][A-Z0-9_]{0,63}");
    if (RESERVED_ENV.test(name)) {
      throw AppError.invalid(field, "is reserved (it changes how code is loaded, or belongs to oCore)");
    }
  }
  const names = new Set<string>();
  definition.parameters.forEach((parameter, i) => {
    if (names.has(parameter.name)) {
      throw AppError.invalid(`definition.parameters.${i}.name`, `"${parameter.name}" is used twice`);
    }
    names.add(parameter.name);
    if (parameter.defaultValue !== "" && parameter.type !== "list") {
      checkValue(parameter, parameter.defaultValue, `definition.parameters.${i}.default_value`);
    }
  });
  const known = (field: string, source: string) => {
    for (const name of placeholdersIn(source, field)) {
      if (!isKnownPlaceholder(name, names)) {
        throw AppError.invalid(
          field,
          `unknown placeholder {${name}}: use a host fact (${FACT_PLACEHOLDERS.join(", ")}), tag.<key>, instances, ports, or a parameter`,
        );
      }
    }
  };
  known("definition.name", definition.name);
  definition.argv.forEach((arg, i) => {
    known(`definition.argv.${i}`, arg);
  });
  for (const [key, value] of Object.entries(definition.env)) known(`definition.env.${key}`, value);
  definition.examples.forEach((example, i) => {
    for (const [name, value] of Object.entries(example.parameters)) {
      const parameter = definition.parameters.find((p) => p.name === name);
      const field = `definition.examples.${i}.parameters.${name}`;
      if (!parameter) throw AppError.invalid(field, "is not a parameter of the template");
      if (parameter.type !== "list") checkValue(parameter, value, field);
    }
  });
  return definition;
}

/** Host facts a placeholder may name. */
export const FACT_PLACEHOLDERS = [
  "arch",
  "os_id",
  "os_version",
  "hostname",
  "cores",
  "memory_mb",
  "server_name",
  "server_id",
  "instances",
  "ports",
] as const;

function isKnownPlaceholder(name: string, parameters: ReadonlySet<string>): boolean {
  if ((FACT_PLACEHOLDERS as readonly string[]).includes(name)) return true;
  if (/^tag\.[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/.test(name)) return true;
  return parameters.has(name);
}

/**
 * Checks one parameter value against its type and returns it in canonical form, or throws
 * invalid_argument naming `field`. List values are checked per host (their list is per host).
 */
export function checkValue(parameter: TemplateParameter, value: string, field: string): string {
  if (typeof value !== "string") throw AppError.invalid(field, "must be a string");
  if (value.length > 4096) throw AppError.invalid(field, "must be at most 4096 characters");
  if (hasControlChars(value)) {
    throw AppError.invalid(field, "must not contain control characters (newline, NUL, escape, …)");
  }
  switch (parameter.type) {
    case "string":
      if (parameter.pattern !== "" && !new RegExp(`^(?:${parameter.pattern})$`, "u").test(value)) {
        throw AppError.invalid(field, `does not match the pattern ${parameter.pattern}`);
      }
      return value;
    case "enum":
      if (!parameter.allowedValues.includes(value)) {
        throw AppError.invalid(field, `must be one of ${parameter.allowedValues.join(", ")}`);
      }
      return value;
    case "integer": {
      if (!/^-?\d{1,15}$/.test(value)) throw AppError.invalid(field, "must be an integer");
      const number = Number(value);
      if (number < parameter.min || number > parameter.max) {
        throw AppError.invalid(field, `must be between ${parameter.min} and ${parameter.max}`);
      }
      return String(number);
    }
    case "boolean":
      if (value !== "true" && value !== "false") throw AppError.invalid(field, "must be true or false");
      if (parameter.confirm && value !== "true") {
        throw AppError.invalid(field, "must be true: this template asks for confirmation before it runs");
      }
      return value;
    case "list":
      return value;
  }
}

/**
 * The values a run gives, checked and completed with defaults. Unknown names, missing required
 * values and values outside their type are refused naming `parameters.<name>`.
 */
export function resolveParameters(
  definition: TemplateDefinition,
  given: Readonly<Record<string, string>>,
): Record<string, string> {
  for (const name of Object.keys(given)) {
    if (!definition.parameters.some((p) => p.name === name)) {
      throw AppError.invalid(`parameters.${name}`, "is not a parameter of this template");
    }
  }
  const values: Record<string, string> = {};
  for (const parameter of definition.parameters) {
    const field = `parameters.${parameter.name}`;
    const value =
      given[parameter.name] ?? (parameter.defaultValue !== "" ? parameter.defaultValue : undefined);
    if (value === undefined) {
      if (parameter.required || parameter.confirm) throw AppError.invalid(field, "is required");
      values[parameter.name] = parameter.type === "boolean" ? "false" : "";
      continue;
    }
    values[parameter.name] = checkValue(parameter, value, field);
  }
  return values;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** The SHA-256 (hex) of the definition's canonical JSON (keys sorted): the version's identity. */
export function definitionHash(definition: TemplateDefinition): string {
  return createHash("sha256")
    .update(JSON.stringify(sortKeys(definition)))
    .digest("hex");
}

/** Every placeholder a definition uses (name, argv, env), sorted. */
export function placeholdersOf(definition: TemplateDefinition): string[] {
  const all = new Set<string>();
  for (const source of [definition.name, ...definition.argv, ...Object.values(definition.env)]) {
    for (const name of placeholdersIn(source, "definition")) all.add(name);
  }
  return [...all].sort();
}
