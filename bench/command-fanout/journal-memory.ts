// Memory of the command journal alone: 100 MB of output chunks (64 KiB, each a fresh buffer as a
// received frame is) appended as fast as the journal accepts them, on a throwaway PostgreSQL.
// Peak growth of RSS, V8 heap and ArrayBuffers over the run, to tell the journal's share of the
// fan-out benchmark's memory figure from the transport's. `node --expose-gc
// bench/command-fanout/journal-memory.ts [MB]`.

import { createCommandJournal, createDatabase, rowsOf } from "@ocore/server/testing";
import { startCluster } from "@ocore/server/testing/postgres-cluster";
import { sql } from "drizzle-orm";
import { pino } from "pino";
import { rssBytes } from "../agent-fleet/proc-stats.ts";
import { readCounts } from "../cli-args.ts";

const [megabytes = 100] = readCounts(
  "usage: node bench/command-fanout/journal-memory.ts [megabytes]   (default 100: output journalled through one command)",
  [100],
);
const cluster = await startCluster();
const database = createDatabase({ kind: "postgres", url: cluster.url, poolSize: 10 });
try {
  await database.migrate();
  const [server] = rowsOf<{ id: string }>(
    await database.db.execute(sql`insert into servers (name) values ('memory') returning id`),
  );
  const [command] = rowsOf<{ id: string }>(
    await database.db.execute(sql`insert into commands (server_id, spec_type, spec, state, deadline, actor_kind)
      values (${server?.id}, 'x', '\\x00', 'running', now() + interval '1 hour', 'system') returning id`),
  );
  const commandId = command?.id as string;
  const journal = createCommandJournal(database.db, {
    logger: pino({ level: "error" }),
    onCommitted: () => {},
  });
  globalThis.gc?.();
  const before = process.memoryUsage();
  const rssBefore = rssBytes(process.pid);
  const peak = { rss: 0, heapUsed: 0, arrayBuffers: 0 };
  const sample = () => {
    const now = process.memoryUsage();
    peak.rss = Math.max(peak.rss, rssBytes(process.pid) - rssBefore);
    peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed - before.heapUsed);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers - before.arrayBuffers);
  };
  const sampler = setInterval(sample, 20);
  const block = Buffer.alloc(64 * 1024, "x");
  const started = performance.now();
  const chunks = (megabytes * 1024 * 1024) / block.byteLength;
  for (let sequence = 1; sequence <= chunks; sequence++) {
    await journal.append({ kind: "output", commandId, sequence, stream: 1, data: Buffer.from(block) });
  }
  await journal.flushed();
  clearInterval(sampler);
  sample();
  const seconds = (performance.now() - started) / 1000;
  const [stored] = rowsOf<{ n: string; bytes: string }>(
    await database.db.execute(sql`select count(*) as n, sum(length(data)) as bytes from command_output`),
  );
  const mb = (value: number) => Math.round(value / 1048576);
  console.log(
    JSON.stringify({
      megabytes,
      seconds: Number(seconds.toFixed(1)),
      stored,
      peakGrowthMb: { rss: mb(peak.rss), heapUsed: mb(peak.heapUsed), arrayBuffers: mb(peak.arrayBuffers) },
      journalPeakMb: mb(journal.peakBufferedBytes),
    }),
  );
  await journal.close();
} finally {
  await database.close();
  await cluster.stop();
}
