import { readFile } from "node:fs/promises";
import path from "node:path";
import { ensurePrivateDirectory, writeFileAtomic } from "../state/write-file-atomic.js";

/** What the agent remembers about one command id. */
export interface RecentCommand {
  readonly id: string;
  /** running: started (and, after a restart, interrupted); finished: `finished` holds its end. */
  readonly state: "running" | "finished";
  /** When it was recorded (ms since the epoch). */
  readonly at: number;
  /** The CommandFinished message, binary, base64 (finished only). */
  readonly finished?: string;
}

export interface RecentCommands {
  get(id: string): RecentCommand | undefined;
  /** Records an id as started; resolves once that is on disk (before the command runs). */
  markRunning(id: string): Promise<void>;
  markFinished(id: string, finished: Uint8Array): Promise<void>;
  readonly size: number;
}

export interface RecentCommandsOptions {
  /** The file (e.g. `<state dir>/commands.json`); undefined keeps the ids in memory only (tests, benchmarks). */
  readonly file?: string;
  /** Ids kept at most; the oldest finished ones go first. */
  readonly maxEntries?: number;
  /** Finished ids older than this are forgotten (the server stops redelivering at the deadline, ≤ 7 days). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

/**
 * The ids of recent commands and how they ended, so that each id runs at most once even across
 * agent restarts. The whole list is one small JSON file rewritten atomically; changes made while
 * a write runs go out together in the next write (one fsync for many commands).
 */
export async function openRecentCommands(options: RecentCommandsOptions = {}): Promise<RecentCommands> {
  const maxEntries = options.maxEntries ?? 2000;
  const maxAgeMs = options.maxAgeMs ?? 8 * 24 * 3_600_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, RecentCommand>();
  if (options.file) {
    await ensurePrivateDirectory(path.dirname(options.file));
    let text: string | undefined;
    try {
      text = await readFile(options.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (text !== undefined) {
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed))
        throw new Error(`${options.file} is not a list of commands; move it away to start afresh`);
      for (const item of parsed as RecentCommand[]) {
        if (typeof item?.id === "string" && (item.state === "running" || item.state === "finished")) {
          entries.set(item.id, item);
        }
      }
    }
  }

  const prune = () => {
    const oldest = now() - maxAgeMs;
    // Entries are in the order they were recorded: stop at the first one young enough (each
    // change then costs O(1), not a walk over up to maxEntries ids).
    for (const [id, entry] of entries) {
      if (entry.at >= oldest) break;
      if (entry.state === "finished") entries.delete(id);
    }
    // Map order is insertion order: the first entries are the oldest.
    for (const [id, entry] of entries) {
      if (entries.size <= maxEntries) break;
      if (entry.state === "finished") entries.delete(id);
    }
  };

  let looping = false;
  let dirty = false;
  let waiters: Array<{ resolve(): void; reject(error: unknown): void }> = [];
  const writeLoop = async () => {
    looping = true;
    while (dirty) {
      dirty = false;
      const batch = waiters;
      waiters = [];
      try {
        if (options.file) await writeFileAtomic(options.file, JSON.stringify([...entries.values()]));
        for (const waiter of batch) waiter.resolve();
      } catch (error) {
        for (const waiter of batch) waiter.reject(error);
      }
    }
    looping = false;
  };
  /** Resolves once a write that began after this call is on disk. */
  const persist = () =>
    new Promise<void>((resolve, reject) => {
      dirty = true;
      waiters.push({ resolve, reject });
      if (!looping) void writeLoop();
    });

  const set = (entry: RecentCommand) => {
    entries.delete(entry.id);
    entries.set(entry.id, entry);
    prune();
    return persist();
  };

  return {
    get: (id) => entries.get(id),
    get size() {
      return entries.size;
    },
    markRunning: (id) => set({ id, state: "running", at: now() }),
    markFinished: (id, finished) =>
      set({ id, state: "finished", at: now(), finished: Buffer.from(finished).toString("base64") }),
  };
}
