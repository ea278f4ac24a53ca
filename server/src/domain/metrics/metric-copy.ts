import type { Db } from "../../platform/db/database.js";

/** The part of a postgres.js client the COPY path uses (drizzle keeps it as `db.$client`). */
interface PostgresClient {
  begin<T>(run: (tx: PostgresClient) => Promise<T>): Promise<T>;
  unsafe(query: string): PromiseLike<unknown> & { writable(): Promise<NodeJS.WritableStream> };
  reserve(): unknown;
}

export interface CopyColumn {
  /** The row object's property. */
  readonly key: string;
  /** The table column. */
  readonly name: string;
  /** Its SQL type, for the cast out of the staging table. */
  readonly type: string;
}

/** The postgres.js client behind a drizzle handle; undefined for PGlite. */
export function postgresClientOf(db: Db): PostgresClient | undefined {
  const client = (db as unknown as { $client?: Partial<PostgresClient> }).$client;
  return typeof client?.begin === "function" &&
    typeof client.unsafe === "function" &&
    typeof client.reserve === "function"
    ? (client as PostgresClient)
    : undefined;
}

const escapeText = (text: string) =>
  text.includes("\\") || text.includes("\t") || text.includes("\n") || text.includes("\r")
    ? text.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r")
    : text;

// The rows of one write share their received_at: format each Date once.
let lastTime = Number.NaN;
let lastIso = "";
const isoOf = (date: Date) => {
  const time = date.getTime();
  if (time !== lastTime) {
    lastTime = time;
    lastIso = date.toISOString();
  }
  return lastIso;
};

/** One row as a line of COPY text format, columns in `columns` order. */
export function toCopyLine(row: Record<string, unknown>, columns: readonly CopyColumn[]): string {
  const values = new Array<string>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const value = row[(columns[i] as CopyColumn).key];
    values[i] =
      typeof value === "number"
        ? // as JSON.stringify: a non-finite number is null (and a NOT NULL column refuses it)
          Number.isFinite(value)
          ? String(value)
          : "\\N"
        : value === null || value === undefined
          ? "\\N"
          : value instanceof Date
            ? isoOf(value)
            : escapeText(typeof value === "string" ? value : JSON.stringify(value));
  }
  return `${values.join("\t")}\n`;
}

/**
 * Inserts COPY text lines into `table` in one transaction: COPY into a per-connection temporary
 * staging table whose columns are all text, then one INSERT … SELECT with the casts and
 * ON CONFLICT DO NOTHING (duplicates skipped, as with the JSON statement). COPY is PostgreSQL's
 * cheapest way in (no JSON to parse); staging as text means the COPY itself cannot fail on a bad
 * value (postgres.js would not report a COPY error raised after the stream ended): casts,
 * constraints and foreign keys fail in the INSERT, which rejects normally.
 */
export function createCopyInserter(client: PostgresClient, table: string, columns: readonly CopyColumn[]) {
  const staging = `${table}_staging`;
  const create = `create temp table if not exists ${staging} (${columns
    .map((column) => `${column.name} text`)
    .join(", ")}) on commit delete rows`;
  const copy = `copy ${staging} (${columns.map((column) => column.name).join(", ")}) from stdin`;
  const insert = `insert into ${table} (${columns.map((column) => column.name).join(", ")})
    select ${columns.map((column) => `${column.name}::${column.type}`).join(", ")} from ${staging}
    on conflict do nothing`;

  return (lines: readonly string[]) =>
    client.begin(async (tx) => {
      await tx.unsafe(create);
      const stream = await tx.unsafe(copy).writable();
      await new Promise<void>((resolve, reject) => {
        stream.on("error", reject);
        stream.on("finish", resolve);
        stream.write(lines.join(""));
        stream.end();
      });
      await tx.unsafe(insert);
    });
}
