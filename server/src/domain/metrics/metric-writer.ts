import { getTableColumns, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { metricSamples } from "../../platform/db/schema/metrics.js";
import type { Logger } from "../../platform/logging/logger.js";
import { createCopyInserter, postgresClientOf, toCopyLine } from "./metric-copy.js";
import { type MetricSampleInput, toSampleRow } from "./metric-sample.js";

/** PostgreSQL's wire protocol counts bind parameters in 16 bits. */
export const MAX_BIND_PARAMETERS = 65_534;
const TABLE_COLUMNS = Object.entries(getTableColumns(metricSamples)).map(([key, column]) => ({
  key,
  name: column.name,
  type: column.getSQLType(),
}));
const COLUMNS = TABLE_COLUMNS.length;
const INTO = sql.raw(TABLE_COLUMNS.map((column) => column.name).join(", "));
const FROM = sql.raw(TABLE_COLUMNS.map((column) => `"${column.key}"`).join(", "));
const RECORD = sql.raw(TABLE_COLUMNS.map((column) => `"${column.key}" ${column.type}`).join(", "));

/**
 * One INSERT for many rows with a single bind parameter: the rows travel as one JSON array (each
 * row serialized once, when its batch is queued) that json_to_recordset unpacks server-side.
 * Parsing and planning then cost the same for 1 or 2,000 rows, which a VALUES list with 26
 * parameters per row does not; and it works the same on PGlite.
 */
function insertStatement(rows: readonly string[]): SQL {
  return sql`insert into metric_samples (${INTO})
    select ${FROM} from json_to_recordset(${`[${rows.join(",")}]`}::json) as r(${RECORD})
    on conflict do nothing`;
}

export interface MetricWriterOptions {
  readonly logger: Logger;
  readonly now?: () => Date;
  /**
   * Rows per INSERT. A statement binds one parameter whatever its size; the cap (rows × columns
   * under MAX_BIND_PARAMETERS) now only bounds the statement's size, to a few MB.
   */
  readonly rowsPerStatement?: number;
  /**
   * Rows per group commit. By default, on PostgreSQL (COPY, no parameter limit) 10,000: fewer,
   * bigger transactions; on PGlite one statement's worth (no explicit transaction).
   */
  readonly rowsPerTransaction?: number;
  /** Group commits in flight at once (default 2). */
  readonly concurrency?: number;
}

export interface MetricWriter {
  /** Resolves once every sample is committed (or was already stored: replays are dropped). */
  write(serverId: string, samples: readonly MetricSampleInput[]): Promise<void>;
  /** The largest INSERT this writer sends, in rows. */
  readonly rowsPerStatement: number;
  /** Waits for queued writes, then refuses new ones. */
  close(): Promise<void>;
}

interface Pending {
  /** Each row as a COPY text line (PostgreSQL), or as JSON keyed by the table's property names (PGlite). */
  readonly rows: string[];
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit for metric samples: batches from all agent streams that arrive while a
 * commit runs are written together by the next one. On PostgreSQL a group goes in by COPY into a
 * staging table and one INSERT … SELECT (metric-copy.ts: about twice the rows/s of the JSON
 * statement, whose json_to_recordset parsing was most of its time); on PGlite in one-parameter
 * INSERTs of bounded size.
 * Duplicates (server_id, sequence) are skipped by the primary key, so a replayed batch is stored
 * once and still confirmed. When a commit fails (a bad batch, or the rare deadlock of two lanes
 * inserting the same replayed keys in opposite orders), its batches are retried one by one so
 * one bad batch cannot fail the others.
 */
export function createMetricWriter(db: Db, options: MetricWriterOptions): MetricWriter {
  const now = options.now ?? (() => new Date());
  const rowsPerStatement = Math.min(
    options.rowsPerStatement ?? 1000,
    Math.floor(MAX_BIND_PARAMETERS / COLUMNS),
  );
  const concurrency = Math.max(1, options.concurrency ?? 2);
  let queue: Pending[] = [];
  const lanes = new Set<Promise<void>>();
  let closed = false;
  // PostgreSQL: COPY into a staging table, then one INSERT … SELECT (see metric-copy.ts).
  // PGlite: the one-parameter JSON statement.
  const client = postgresClientOf(db);
  const copyInsert = client && createCopyInserter(client, "metric_samples", TABLE_COLUMNS);
  const encode = copyInsert
    ? (row: object) => toCopyLine(row as Record<string, unknown>, TABLE_COLUMNS)
    : (row: object) => JSON.stringify(row);
  const rowsPerTransaction = options.rowsPerTransaction ?? (copyInsert ? 10_000 : rowsPerStatement);

  const insert = async (tx: Db, rows: readonly string[]) => {
    for (let start = 0; start < rows.length; start += rowsPerStatement) {
      await tx.execute(insertStatement(rows.slice(start, start + rowsPerStatement)));
    }
  };

  const commit = async (group: readonly Pending[]) => {
    const rows = group.flatMap((pending) => pending.rows);
    if (copyInsert) return void (await copyInsert(rows));
    // One statement commits atomically by itself; more need a transaction around them.
    if (rows.length <= rowsPerStatement) return insert(db, rows);
    await db.transaction((tx) => insert(tx as unknown as Db, rows));
  };

  const takeGroup = () => {
    const group: Pending[] = [];
    let rows = 0;
    while (
      queue.length > 0 &&
      (group.length === 0 || rows + (queue[0]?.rows.length ?? 0) <= rowsPerTransaction)
    ) {
      const next = queue.shift() as Pending;
      group.push(next);
      rows += next.rows.length;
    }
    return group;
  };

  const drain = async () => {
    while (queue.length > 0) {
      const group = takeGroup();
      try {
        await commit(group);
        for (const pending of group) pending.resolve();
      } catch (error) {
        if (group.length === 1) {
          group[0]?.reject(error);
          continue;
        }
        options.logger.warn(
          { err: error, batches: group.length },
          "metric group commit failed; retrying batch by batch",
        );
        for (const pending of group) {
          await commit([pending]).then(pending.resolve, pending.reject);
        }
      }
    }
  };

  // Up to `concurrency` lanes commit at once, so that serializing the next group overlaps
  // the database's work on the previous one.
  const kick = () => {
    if (lanes.size >= concurrency || queue.length === 0) return;
    const lane: Promise<void> = (async () => {
      // Let the batches that arrive in the same turn of the event loop join this commit.
      await new Promise((resolve) => setImmediate(resolve));
      await drain();
    })().finally(() => {
      lanes.delete(lane);
      kick();
    });
    lanes.add(lane);
  };

  return {
    rowsPerStatement,
    write(serverId, samples) {
      if (closed) return Promise.reject(new Error("the metric writer is closed"));
      if (samples.length === 0) return Promise.resolve();
      const receivedAt = now();
      const rows = samples.map((sample) => encode(toSampleRow(serverId, sample, receivedAt)));
      return new Promise<void>((resolve, reject) => {
        queue.push({ rows, resolve, reject });
        kick();
      });
    },
    async close() {
      closed = true;
      while (lanes.size > 0) await Promise.all(lanes);
      const left = queue;
      queue = [];
      for (const pending of left) pending.reject(new Error("the metric writer is closed"));
    },
  };
}
