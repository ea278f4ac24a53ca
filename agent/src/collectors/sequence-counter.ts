import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../state/write-file-atomic.js";

/**
 * Hands out sample sequence numbers, increasing by one across agent restarts. The next number
 * is persisted (fsync'd) before a sample that uses it can be spooled: the server drops a reused
 * (server, sequence) as a duplicate, so reuse would lose samples.
 */
export interface SequenceCounter {
  next(): Promise<bigint>;
}

export async function openSequenceCounter(
  file: string,
  /** The highest sequence the spool holds: a lost counter write must not go behind it. */
  spooledMax: bigint = 0n,
): Promise<SequenceCounter> {
  const stored = await readFile(file, "utf8").then(
    (text) => (/^\d+\s*$/.test(text) ? BigInt(text.trim()) : 1n),
    () => 1n,
  );
  let nextValue = stored > spooledMax ? stored : spooledMax + 1n;
  return {
    async next() {
      const value = nextValue;
      nextValue = value + 1n;
      await writeFileAtomic(file, `${nextValue}\n`);
      return value;
    },
  };
}
