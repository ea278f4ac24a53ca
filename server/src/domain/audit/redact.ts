const SECRET_KEY = /pass(word|phrase)?|secret|token|private_?key|credential|hash/i;

/** A copy of `value` with every secret-looking field replaced, for before/after snapshots. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        SECRET_KEY.test(key) ? "[redacted]" : redactSecrets(inner),
      ]),
    );
  }
  return value;
}

/** Canonical JSON: keys sorted, so the same state always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return "null";
  return JSON.stringify(sortKeys(redactSecrets(value)));
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
