import { stringify } from "csv-stringify/sync";
import type { DataFormat } from "./server-import.js";
import type { ServerRow } from "./servers.js";
import { formatTagList } from "./tags.js";

/** The servers as a file that ImportServers accepts back. Never includes credentials. */
export function exportServers(rows: readonly ServerRow[], format: DataFormat): string {
  const records = rows.map((row) => ({
    name: row.name,
    host: row.host,
    ssh_port: row.sshPort,
    ssh_user: row.sshUser,
    tags: row.tags,
  }));
  if (format === "json") return `${JSON.stringify(records, null, 2)}\n`;
  return stringify(
    records.map((record) => ({ ...record, tags: formatTagList(record.tags) })),
    { header: true, columns: ["name", "host", "ssh_port", "ssh_user", "tags"], record_delimiter: "unix" },
  );
}
