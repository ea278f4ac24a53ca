import { stringify } from "csv-stringify/sync";
import { and, asc, gt } from "drizzle-orm";
import { servers } from "../../platform/db/schema/servers.js";
import type { Queryable } from "../../platform/db/transaction.js";
import type { Scope } from "../auth/principal.js";
import type { Selector } from "../auth/selector.js";
import { selectorCondition } from "../auth/selector-sql.js";
import type { DataFormat } from "./server-import.js";
import { type ServerRow, scopeCondition } from "./servers.js";
import { formatTagList } from "./tags.js";

/** Servers read per statement while streaming an export. */
export const EXPORT_BATCH = 1000;

const COLUMNS = ["name", "host", "ssh_port", "ssh_user", "tags"];

function recordOf(row: ServerRow) {
  return { name: row.name, host: row.host, ssh_port: row.sshPort, ssh_user: row.sshUser, tags: row.tags };
}

function csvOf(rows: readonly ServerRow[], header: boolean): string {
  return stringify(
    rows.map((row) => ({ ...recordOf(row), tags: formatTagList(row.tags) })),
    { header, columns: COLUMNS, record_delimiter: "unix" },
  );
}

/** The servers as a file that ImportServers accepts back. Never includes credentials. */
export function exportServers(rows: readonly ServerRow[], format: DataFormat): string {
  if (format === "json") return `${JSON.stringify(rows.map(recordOf), null, 2)}\n`;
  return csvOf(rows, true);
}

/**
 * The same file as `exportServers` of every server the scope sees (and `selector` matches), by
 * name, as chunks of EXPORT_BATCH servers read by keyset: the server holds one batch at a time
 * whatever the fleet's size, and the chunks put together are exactly the file.
 */
export async function* exportServerChunks(
  db: Queryable,
  scope: Scope,
  input: { readonly format: DataFormat; readonly selector?: Selector; readonly batch?: number },
): AsyncGenerator<string> {
  const batch = input.batch ?? EXPORT_BATCH;
  let after: string | undefined;
  let first = true;
  for (;;) {
    const rows = await db
      .select()
      .from(servers)
      .where(
        and(
          scopeCondition(scope),
          input.selector ? selectorCondition(servers.tags, input.selector) : undefined,
          after === undefined ? undefined : gt(servers.name, after),
        ),
      )
      .orderBy(asc(servers.name))
      .limit(batch);
    const last = rows.length < batch;
    if (input.format === "csv") {
      if (rows.length > 0 || first) yield csvOf(rows, first);
    } else if (first && last && rows.length === 0) {
      yield "[]\n";
    } else if (rows.length > 0) {
      // JSON.stringify(records, null, 2), one record at a time: each indented by two spaces.
      const records = rows.map((row) => JSON.stringify(recordOf(row), null, 2).replace(/^/gm, "  "));
      yield `${first ? "[\n" : ",\n"}${records.join(",\n")}${last ? "\n]\n" : ""}`;
    } else {
      yield "\n]\n";
    }
    if (last) return;
    first = false;
    after = rows.at(-1)?.name;
  }
}
