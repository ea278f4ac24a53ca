import { AppError } from "../../platform/errors/app-error.js";

/**
 * Placeholders are `{name}` in a template's name, argv and env values (never in its script);
 * `{{` and `}}` stand for literal braces. A lone brace is an error, so a typo never passes as text.
 */
const TOKEN = /\{\{|\}\}|\{([^{}]*)\}|[{}]/g;
const NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?)?$/;

/** The placeholder names in `source`; throws invalid_argument naming `field` on a malformed one. */
export function placeholdersIn(source: string, field: string): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(TOKEN)) {
    const token = match[0];
    if (token === "{{" || token === "}}") continue;
    const name = match[1];
    if (name === undefined || !NAME.test(name)) {
      throw AppError.invalid(
        field,
        `has a malformed placeholder "${token}" at position ${(match.index ?? 0) + 1} (write {{ or }} for a literal brace)`,
      );
    }
    names.push(name);
  }
  return names;
}

/**
 * Fills the placeholders of `source` from `values`. The result is one string used as one argv
 * element or one environment value: no shell ever parses it, so no value can become code.
 * Returns undefined naming the first placeholder without a value (e.g. a tag the host lacks).
 */
export function fillPlaceholders(
  source: string,
  values: (name: string) => string | undefined,
): { readonly text: string } | { readonly missing: string } {
  let missing: string | undefined;
  const text = source.replace(TOKEN, (token, name: string | undefined) => {
    if (token === "{{") return "{";
    if (token === "}}") return "}";
    const value = name === undefined ? undefined : values(name);
    if (value === undefined) missing ??= name ?? token;
    return value ?? "";
  });
  return missing === undefined ? { text } : { missing };
}
