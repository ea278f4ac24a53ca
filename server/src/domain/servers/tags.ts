import { AppError } from "../../platform/errors/app-error.js";
import { clip } from "../../platform/errors/clip.js";
import { isValidTagKey, isValidTagValue } from "../auth/selector.js";

export const MAX_TAGS = 50;

/** Checks a server's tags; errors name the field and the tag. */
export function checkTags(tags: Readonly<Record<string, string>>, field = "tags"): Record<string, string> {
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) throw AppError.invalid(field, `at most ${MAX_TAGS} tags`);
  for (const [key, value] of entries) {
    if (!isValidTagKey(key)) {
      // The key is not valid, so it is not a usable field path: it is quoted (cut) instead.
      throw AppError.invalid(
        field,
        `key ${JSON.stringify(clip(key, 63))} is not allowed: keys are 1-63 characters of a-z, 0-9, '.', '_', '/', '-'`,
      );
    }
    if (!isValidTagValue(value)) {
      throw AppError.invalid(
        `${field}.${key}`,
        "values are up to 63 characters of A-Z, a-z, 0-9, '.', '_', '-'",
      );
    }
  }
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

/** "env=prod;role=web" ⇄ { env: "prod", role: "web" } (the CSV form). */
export function parseTagList(text: string, field = "tags"): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of text
    .split(";")
    .map((piece) => piece.trim())
    .filter(Boolean)) {
    const [key, value = "", ...rest] = part.split("=");
    if (rest.length > 0 || !key) throw AppError.invalid(field, `"${part}" is not key=value`);
    tags[key.trim()] = value.trim();
  }
  return checkTags(tags, field);
}

export function formatTagList(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(";");
}

export function checkServerName(name: string, field = "name"): string {
  const trimmed = name.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(trimmed)) {
    throw AppError.invalid(
      field,
      "must be 1-63 characters of letters, digits, '.', '_', '-', starting with a letter or digit",
    );
  }
  return trimmed;
}

export function checkHost(host: string, field = "host"): string {
  const trimmed = host.trim();
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(trimmed) || trimmed.startsWith("-")) {
    throw AppError.invalid(field, "must be a host name or an IP address");
  }
  return trimmed;
}

export function checkPort(port: number, field = "sshPort"): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw AppError.invalid(field, "must be 1-65535");
  return port;
}

export function checkSshUser(user: string, field = "sshUser"): string {
  if (!/^[a-z_][a-z0-9_.-]{0,31}$/.test(user))
    throw AppError.invalid(field, "is not a valid Linux user name");
  return user;
}
