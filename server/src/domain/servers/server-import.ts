import { createHash } from "node:crypto";
import { parse } from "csv-parse/sync";
import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAuditBatch } from "../audit/record-audit.js";
import { PENDING_MESSAGE } from "../server-status/server-status.js";
import type { ServerRow } from "./servers.js";
import { checkHost, checkPort, checkServerName, checkSshUser, checkTags, parseTagList } from "./tags.js";

export type DataFormat = "csv" | "json";
export const MAX_IMPORT_BYTES = 16 * 1024 * 1024;
export const MAX_IMPORT_ROWS = 100_000;
/** Rows per statement (each statement binds one JSON parameter). */
const ROWS_PER_STATEMENT = 2000;

export interface ImportRow {
  readonly name: string;
  readonly host: string;
  readonly sshPort: number;
  readonly sshUser: string;
  readonly tags: Record<string, string>;
}

export interface RowResult {
  readonly row: number;
  readonly name: string;
  readonly action: "create" | "update" | "unchanged" | "error";
  readonly errors: string[];
}

export interface ImportReport {
  readonly rows: RowResult[];
  readonly applied: boolean;
  readonly created: number;
  readonly updated: number;
  readonly errorCount: number;
}

type RawRow = Record<string, unknown>;

/**
 * Creates or updates servers from a file, matched by name. Every row is validated and reported
 * with its number; nothing is written unless every row is valid (all or nothing), and a dry run
 * writes nothing at all. Imported servers carry no credentials: those are added per server.
 * Rows are written a few thousand per statement; the audit log gets one `server.import` entry
 * (row counts and the file's SHA-256) and one `server.import_update` per changed existing server.
 */
export async function importServers(
  db: Db,
  context: AuditContext,
  input: { format: DataFormat; data: Uint8Array; dryRun: boolean },
): Promise<ImportReport> {
  if (input.data.byteLength > MAX_IMPORT_BYTES) throw AppError.invalid("data", "is larger than 16 MB");
  const digest = createHash("sha256").update(input.data).digest("hex");
  const raw = readRows(input.format, Buffer.from(input.data).toString("utf8"));
  if (raw.length === 0) {
    throw AppError.invalid(
      "data",
      input.format === "csv"
        ? "has no servers: expected a header row (name,host,ssh_port,ssh_user,tags), then one row per server"
        : "has no servers: expected a JSON array with one object per server",
    );
  }
  if (raw.length > MAX_IMPORT_ROWS) throw AppError.invalid("data", `has more than ${MAX_IMPORT_ROWS} rows`);

  const parsed = raw.map((row, index) => validateRow(row, index + 1));
  const seen = new Map<string, number>();
  for (const result of parsed) {
    if (!result.value) continue;
    const first = seen.get(result.value.name);
    if (first) result.errors.push(`name: "${result.value.name}" already appears in row ${first}`);
    else seen.set(result.value.name, result.row);
  }
  const names = parsed.flatMap((result) => (result.value ? [result.value.name] : []));
  const byName = new Map<string, ServerRow>();
  for (let start = 0; start < names.length; start += ROWS_PER_STATEMENT) {
    // The names travel as one JSON parameter: building a statement with thousands of bound
    // values cost more than running it.
    const chunk = JSON.stringify(names.slice(start, start + ROWS_PER_STATEMENT));
    const found = await db
      .select()
      .from(servers)
      .where(sql`${servers.name} in (select jsonb_array_elements_text(${chunk}::jsonb))`);
    for (const row of found) byName.set(row.name, row);
  }

  const rows: RowResult[] = parsed.map((result) => {
    if (result.errors.length > 0 || !result.value) {
      return { row: result.row, name: result.name, action: "error", errors: result.errors };
    }
    const current = byName.get(result.value.name);
    const action = !current ? "create" : sameServer(current, result.value) ? "unchanged" : "update";
    return { row: result.row, name: result.name, action, errors: [] };
  });
  const errorCount = rows.filter((row) => row.action === "error").length;
  const created = rows.filter((row) => row.action === "create").length;
  const updated = rows.filter((row) => row.action === "update").length;
  if (input.dryRun || errorCount > 0 || created + updated === 0) {
    return { rows, applied: false, created, updated, errorCount };
  }

  const changes = parsed.flatMap((result, index) => {
    const action = rows[index]?.action;
    return result.value && (action === "create" || action === "update") ? [result.value] : [];
  });
  await db.transaction(async (tx) => {
    const written = new Map<string, string>();
    const now = new Date().toISOString();
    for (let start = 0; start < changes.length; start += ROWS_PER_STATEMENT) {
      const chunk = JSON.stringify(
        changes
          .slice(start, start + ROWS_PER_STATEMENT)
          .map((value) => [value.name, value.host, value.sshPort, value.sshUser, value.tags]),
      );
      // One parameter per statement, unpacked by PostgreSQL (as the metric writer does).
      const result = await tx.execute(sql`
        insert into servers (name, host, ssh_port, ssh_user, tags, status, status_message)
        select r->>0, r->>1, (r->>2)::int, r->>3, r->4, 'pending', ${PENDING_MESSAGE}
        from jsonb_array_elements(${chunk}::jsonb) as r
        on conflict (name) do update set
          host = excluded.host, ssh_port = excluded.ssh_port, ssh_user = excluded.ssh_user,
          tags = excluded.tags, updated_at = ${now}::timestamptz
        returning id, name`);
      for (const row of rowsOf<{ id: string; name: string }>(result)) written.set(row.name, row.id);
    }
    if (written.size !== changes.length) throw new Error("the import did not write every row");
    await recordAuditBatch(tx, context, [
      {
        action: "server.import",
        targetType: "import",
        targetId: digest,
        after: {
          format: input.format,
          sha256: digest,
          rows: rows.length,
          created,
          updated,
          unchanged: rows.length - created - updated,
        },
        detail: `${rows.length} rows: ${created} servers created, ${updated} updated`,
      },
      // Updates overwrite a server's address and tags: one entry each keeps what it was. Created
      // servers are described by the import entry (the file's digest) and need none.
      ...changes.flatMap((value) => {
        const before = byName.get(value.name);
        const after = before && { ...before, ...value, updatedAt: new Date(now) };
        return after
          ? [{ action: "server.import_update", targetType: "server", targetId: after.id, before, after }]
          : [];
      }),
    ]);
  });
  return { rows, applied: true, created, updated, errorCount };
}

function readRows(format: DataFormat, text: string): RawRow[] {
  if (format === "json") {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw AppError.invalid("data", `is not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(value)) throw AppError.invalid("data", "must be a JSON array of server objects");
    return value.map((item) =>
      item && typeof item === "object" && !Array.isArray(item) ? (item as RawRow) : {},
    );
  }
  try {
    return parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      bom: true,
    });
  } catch (error) {
    throw AppError.invalid("data", `is not valid CSV (${(error as Error).message})`);
  }
}

function validateRow(
  raw: RawRow,
  row: number,
): { row: number; name: string; value?: ImportRow; errors: string[] } {
  const errors: string[] = [];
  const attempt = <T>(run: () => T): T | undefined => {
    try {
      return run();
    } catch (error) {
      errors.push(error instanceof AppError ? error.message : String(error));
      return undefined;
    }
  };
  const text = (key: string) =>
    typeof raw[key] === "string" ? (raw[key] as string) : raw[key] === undefined ? "" : String(raw[key]);
  const name = attempt(() => checkServerName(text("name"))) ?? text("name");
  const host = attempt(() => checkHost(text("host")));
  const portText = text("ssh_port") || "22";
  const sshPort = attempt(() => checkPort(Number(portText), "ssh_port"));
  const sshUser = attempt(() => checkSshUser(text("ssh_user") || "root", "ssh_user"));
  const tags = attempt(() =>
    typeof raw.tags === "object" && raw.tags !== null
      ? checkTags(Object.fromEntries(Object.entries(raw.tags).map(([k, v]) => [k, String(v)])))
      : parseTagList(text("tags")),
  );
  const known = new Set(["name", "host", "ssh_port", "ssh_user", "tags"]);
  for (const key of Object.keys(raw)) if (!known.has(key)) errors.push(`${key}: is not a known column`);
  if (errors.length > 0 || host === undefined || sshPort === undefined || sshUser === undefined || !tags) {
    return { row, name, errors };
  }
  return { row, name, value: { name, host, sshPort, sshUser, tags }, errors };
}

function sameServer(current: typeof servers.$inferSelect, next: ImportRow): boolean {
  return (
    current.host === next.host &&
    current.sshPort === next.sshPort &&
    current.sshUser === next.sshUser &&
    JSON.stringify(current.tags) === JSON.stringify(next.tags)
  );
}
