import type { AuditRow } from "./record-audit.js";

const columns = [
  "id",
  "at",
  "actorType",
  "actorId",
  "actorName",
  "action",
  "targetType",
  "targetId",
  "beforeJson",
  "afterJson",
  "sourceIp",
  "userAgent",
  "result",
  "detail",
  "previousHash",
  "hash",
] as const satisfies readonly (keyof AuditRow)[];

function plain(row: AuditRow): Record<string, string | number> {
  return Object.fromEntries(
    columns.map((column) => [column, column === "at" ? row.at.toISOString() : row[column]]),
  );
}

export function auditJsonLine(row: AuditRow): string {
  return `${JSON.stringify(plain(row))}\n`;
}

export const auditCsvHeader = `${columns.join(",")}\r\n`;

export function auditCsvLine(row: AuditRow): string {
  const values = plain(row);
  return `${columns.map((column) => csvField(String(values[column]))).join(",")}\r\n`;
}

/** RFC 4180 quoting; a leading formula character is defused for spreadsheet users. */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
