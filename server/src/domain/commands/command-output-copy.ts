import { once } from "node:events";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type { TransactionSql } from "postgres";
import type { Db } from "../../platform/db/database.js";
import type { Tx } from "../../platform/db/transaction.js";

/** An output chunk as COPY writes it. */
export interface OutputRow {
  readonly commandId: string;
  readonly sequence: number;
  readonly stream: number;
  readonly data: Uint8Array;
}

/** True when the database is PostgreSQL through postgres.js (PGlite has no COPY FROM STDIN). */
export function supportsCopy(db: Db): boolean {
  const client = (db as unknown as { $client?: { begin?: unknown; unsafe?: unknown } }).$client;
  return typeof client?.begin === "function" && typeof client.unsafe === "function";
}

/**
 * The postgres.js transaction under a drizzle transaction (drizzle keeps it as `session.client`);
 * undefined for PGlite, which has no COPY FROM STDIN. A test checks that PostgreSQL gets one.
 */
export function postgresTransactionOf(tx: Tx): TransactionSql | undefined {
  const client = (tx as unknown as { session?: { client?: Partial<TransactionSql> } }).session?.client;
  return typeof client?.savepoint === "function" && typeof client.unsafe === "function"
    ? (client as TransactionSql)
    : undefined;
}

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
/** Field count, then (length, value) for command_id, sequence and stream, then data's length. */
const TUPLE_HEADER_BYTES = 2 + (4 + 16) + (4 + 8) + (4 + 2) + 4;

function tupleHeader(row: OutputRow): Buffer {
  const header = Buffer.allocUnsafe(TUPLE_HEADER_BYTES);
  let at = header.writeInt16BE(4, 0);
  at = header.writeInt32BE(16, at);
  at += header.write(row.commandId.replaceAll("-", ""), at, 16, "hex");
  at = header.writeInt32BE(8, at);
  at = header.writeBigInt64BE(BigInt(row.sequence), at);
  at = header.writeInt32BE(2, at);
  at = header.writeInt16BE(row.stream, at);
  header.writeInt32BE(row.data.byteLength, at);
  return header;
}

async function write(stream: Writable, bytes: Uint8Array): Promise<void> {
  if (stream.destroyed) throw stream.errored ?? new Error("the COPY stream closed");
  if (!stream.write(bytes)) await once(stream, "drain");
}

/**
 * Writes output chunks into command_output with `COPY … FROM STDIN (FORMAT binary)`: the bytes go
 * to PostgreSQL as they are (no hex or base64 text, no JSON), one copy per chunk inside
 * postgres.js. A chunk already stored fails the COPY (unique_violation, or CopyRefused when
 * postgres.js reports it only through the aborted transaction); the caller then stores the batch
 * with the statement that skips repeats.
 */
export async function copyOutput(sql: TransactionSql, rows: readonly OutputRow[]): Promise<void> {
  const stream = await sql`copy command_output (command_id, sequence, stream, data)
    from stdin with (format binary)`.writable();
  // Listens from the start: an error while nobody waits on the stream must not go unhandled.
  const done = finished(stream);
  done.catch(() => undefined);
  const header = Buffer.alloc(SIGNATURE.byteLength + 8);
  SIGNATURE.copy(header);
  await write(stream, header);
  for (const row of rows) {
    await write(stream, tupleHeader(row));
    await write(stream, row.data);
  }
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1);
  stream.end(trailer);
  // postgres.js never settles the stream when PostgreSQL refuses the COPY after its end (say, a
  // chunk stored already): a statement queued behind it then fails (the transaction is aborted),
  // and succeeds after a COPY that worked.
  const after = sql`select 1`.then(
    () => undefined,
    (error: unknown) => {
      throw new CopyRefused(error);
    },
  );
  after.catch(() => undefined);
  await Promise.race([done, after]);
  await after;
}

/** PostgreSQL refused a COPY (the transaction is aborted); the caller may store the rows another way. */
export class CopyRefused extends Error {
  constructor(cause: unknown) {
    super("PostgreSQL refused the COPY of command output", { cause });
  }
}
