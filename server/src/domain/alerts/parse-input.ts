import type { z } from "zod";
import { AppError } from "../../platform/errors/app-error.js";

/**
 * Validates request input with a zod schema; the first problem becomes an invalid_argument
 * naming the field as the API spells it (snake_case, dotted for nested fields).
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, prefix = ""): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = (issue?.path ?? []).map((part) =>
    typeof part === "number" ? String(part) : String(part).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
  );
  const field = [prefix, ...path].filter(Boolean).join(".") || "request";
  throw AppError.invalid(field, issue?.message ?? "is invalid");
}
