import { AppError } from "../../platform/errors/app-error.js";
import { clip } from "../../platform/errors/clip.js";

/**
 * Tag selectors, one syntax for RBAC scopes, list filters, batch targets and alert routing:
 *
 *   env=prod,role in (web,worker),!decommissioned,tier!=db,zone notin (a,b),backup
 *
 * Requirements are separated by commas and must all hold. `key` means the tag exists, `!key` that
 * it does not. An empty selector matches every server.
 */
export type Requirement =
  | { readonly op: "eq" | "ne"; readonly key: string; readonly value: string }
  | { readonly op: "in" | "notin"; readonly key: string; readonly values: readonly string[] }
  | { readonly op: "exists" | "absent"; readonly key: string };

export interface Selector {
  readonly source: string;
  readonly requirements: readonly Requirement[];
}

export type Tags = Readonly<Record<string, string>>;

const KEY = /^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$/;
const VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$|^[A-Za-z0-9]$/;

export function isValidTagKey(key: string): boolean {
  return KEY.test(key);
}

export function isValidTagValue(value: string): boolean {
  return value === "" || VALUE.test(value);
}

/** Longer than any sensible selector (50 tags of 63-character keys and values fit). */
export const MAX_SELECTOR_LENGTH = 8192;

/** Parses a selector or throws an invalid_argument AppError saying where and what is wrong. */
export function parseSelector(source: string, field = "selector"): Selector {
  if (source.length > MAX_SELECTOR_LENGTH) {
    throw AppError.invalid(field, `is ${source.length} characters long, at most ${MAX_SELECTOR_LENGTH}`);
  }
  const requirements: Requirement[] = [];
  const fail = (at: number, message: string): never => {
    throw AppError.invalid(field, `${message} at position ${at + 1} of "${clip(source, 100)}"`);
  };
  let i = 0;
  const skipSpace = () => {
    while (source[i] === " ") i++;
  };
  const readWord = (what: string): string => {
    skipSpace();
    const start = i;
    while (i < source.length && /[A-Za-z0-9._/-]/.test(source[i] as string)) i++;
    if (i === start) fail(start, `expected ${what}`);
    return source.slice(start, i);
  };
  const readKey = (): string => {
    const at = i;
    const key = readWord("a tag key");
    if (!isValidTagKey(key))
      fail(at, `"${clip(key, 63)}" is not a valid tag key (lowercase letters, digits, . _ / -)`);
    return key;
  };
  const readValue = (): string => {
    const at = i;
    const value = readWord("a tag value");
    if (!isValidTagValue(value)) fail(at, `"${clip(value, 63)}" is not a valid tag value`);
    return value;
  };
  const readList = (): string[] => {
    skipSpace();
    if (source[i] !== "(") fail(i, 'expected "(" to start the list of values');
    i++;
    const values = [readValue()];
    for (;;) {
      skipSpace();
      if (source[i] === ")") {
        i++;
        return values;
      }
      if (source[i] !== ",") fail(i, 'expected "," or ")" in the list of values');
      i++;
      values.push(readValue());
    }
  };

  skipSpace();
  if (i === source.length) return { source, requirements };
  for (;;) {
    skipSpace();
    if (source[i] === "!" && source[i + 1] !== "=") {
      i++;
      requirements.push({ op: "absent", key: readKey() });
    } else {
      const key = readKey();
      skipSpace();
      if (source.startsWith("!=", i)) {
        i += 2;
        requirements.push({ op: "ne", key, value: readValue() });
      } else if (source.startsWith("==", i) || source[i] === "=") {
        i += source.startsWith("==", i) ? 2 : 1;
        requirements.push({ op: "eq", key, value: readValue() });
      } else if (/^in[ (]/.test(source.slice(i))) {
        i += 2;
        requirements.push({ op: "in", key, values: readList() });
      } else if (/^notin[ (]/.test(source.slice(i))) {
        i += 5;
        requirements.push({ op: "notin", key, values: readList() });
      } else {
        requirements.push({ op: "exists", key });
      }
    }
    skipSpace();
    if (i === source.length) return { source, requirements };
    if (source[i] !== ",") fail(i, `unexpected "${source[i]}"; requirements are separated by ","`);
    i++;
  }
}

export function matchesSelector(selector: Selector, tags: Tags): boolean {
  return selector.requirements.every((requirement) => matchesRequirement(requirement, tags));
}

function matchesRequirement(requirement: Requirement, tags: Tags): boolean {
  const value = Object.hasOwn(tags, requirement.key) ? tags[requirement.key] : undefined;
  switch (requirement.op) {
    case "eq":
      return value === requirement.value;
    case "ne":
      return value !== requirement.value;
    case "in":
      return value !== undefined && requirement.values.includes(value);
    case "notin":
      return value === undefined || !requirement.values.includes(value);
    case "exists":
      return value !== undefined;
    case "absent":
      return value === undefined;
  }
}
