import { getTableColumns } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { metricSamples } from "../db/schema/metrics.js";
import type { Logger } from "../logging/logger.js";
import { type MetricSampleInput, type MetricSampleRow, toSampleRow } from "./metric-sample.js";

/** PostgreSQL's wire protocol counts bind parameters in 16 bits. */
export const MAX_BIND_PARAMETERS = 65_534;
const COLUMNS = Object.keys(getTableColumns(metricSamples)).length;

export interface MetricWriterOptions {
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Rows per INSERT; capped so that rows × columns stays under MAX_BIND_PARAMETERS. */
  readonly rowsPerStatement?: number;
  /** Rows per transaction (one group commit). */
  readonly rowsPerTransaction?: number;
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
  readonly rows: MetricSampleRow[];
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit for metric samples: batches from all agent streams that arrive while a
 * transaction runs are written together by the next one, in multi-row INSERTs that never
 * exceed the bind-parameter limit. Duplicates (server_id, sequence) are skipped by the primary
 * key, so a replayed batch is stored once and still confirmed. When a transaction fails, its
 * batches are retried one by one so one bad batch cannot fail the others.
 */
export function createMetricWriter(db: Db, options: MetricWriterOptions): MetricWriter {
  const now = options.now ?? (() => new Date());
  const rowsPerStatement = Math.min(
    options.rowsPerStatement ?? 1000,
    Math.floor(MAX_BIND_PARAMETERS / COLUMNS),
  );
  const rowsPerTransaction = options.rowsPerTransaction ?? 10_000;
  let queue: Pending[] = [];
  let running: Promise<void> | undefined;
  let closed = false;

  const insert = async (tx: Db, rows: readonly MetricSampleRow[]) => {
    for (let start = 0; start < rows.length; start += rowsPerStatement) {
      await tx
        .insert(metricSamples)
        .values(rows.slice(start, start + rowsPerStatement))
        .onConflictDoNothing();
    }
  };

  const commit = async (group: readonly Pending[]) => {
    await db.transaction(async (tx) => {
      await insert(
        tx as unknown as Db,
        group.flatMap((pending) => pending.rows),
      );
    });
  };

  const drain = async () => {
    while (queue.length > 0) {
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

  const kick = () => {
    running ??= (async () => {
      // Let the batches that arrive in the same turn of the event loop join this commit.
      await new Promise((resolve) => setImmediate(resolve));
      await drain();
    })().finally(() => {
      running = undefined;
      if (queue.length > 0) kick();
    });
  };

  return {
    rowsPerStatement,
    write(serverId, samples) {
      if (closed) return Promise.reject(new Error("the metric writer is closed"));
      if (samples.length === 0) return Promise.resolve();
      const receivedAt = now();
      const rows = samples.map((sample) => toSampleRow(serverId, sample, receivedAt));
      return new Promise<void>((resolve, reject) => {
        queue.push({ rows, resolve, reject });
        kick();
      });
    },
    async close() {
      closed = true;
      while (running) await running;
      const left = queue;
      queue = [];
      for (const pending of left) pending.reject(new Error("the metric writer is closed"));
    },
  };
}
