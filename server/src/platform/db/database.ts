import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { migratePglite, migratePostgres } from "./migrate.js";

/** The drizzle handle every query takes as its first argument; the same type for both engines. */
export type Db = PgDatabase<PgQueryResultHKT>;

export type DatabaseKind = "postgres" | "pglite";

export type DatabaseOptions =
  | { readonly kind: "postgres"; readonly url: string; readonly poolSize?: number }
  | { readonly kind: "pglite"; readonly dir?: string };

export interface Database {
  readonly db: Db;
  readonly kind: DatabaseKind;
  /** Runs the committed migrations; safe to call from several processes at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * PGlite's postgres runs inside one WebAssembly memory that only grows: every page postgres touches
 * stays resident for the life of the process. Its defaults are a server's (shared_buffers 128MB,
 * which the shared-memory setup writes in full at start, and a 64MB maintenance_work_mem that a
 * migration's index build may fill once); one embedded process needs far less, and PGlite's data
 * files are ordinary files, so the kernel's page cache (not counted in the process) still caches
 * them. See docs/decisions/0100-embedded-database-memory.md for the measurements.
 */
export const pgliteStartParams: readonly string[] = [
  ...PGlite.defaultStartParams,
  ...["shared_buffers=16MB", "maintenance_work_mem=16MB"].flatMap((setting) => ["-c", setting]),
];

/**
 * Opens the database without touching it: the first query connects. PostgreSQL goes through
 * postgres.js; PGlite keeps its files under `dir`, or in memory when `dir` is undefined (tests).
 */
export function createDatabase(options: DatabaseOptions): Database {
  if (options.kind === "postgres") {
    const client = postgres(options.url, {
      max: options.poolSize ?? 10,
      connect_timeout: 10,
      onnotice: () => {},
      connection: { application_name: "ocore-server" },
    });
    const db = drizzlePostgres(client) as unknown as Db;
    return {
      db,
      kind: "postgres",
      migrate: () => migratePostgres(options.url),
      close: () => client.end({ timeout: 5 }),
    };
  }

  if (options.dir) mkdirSync(options.dir, { recursive: true });
  // One options object: `new PGlite(undefined, options)` would ignore the options. pg_trgm backs
  // the fleet list's substring search (migration 0008 creates the extension).
  const client = new PGlite({
    dataDir: options.dir,
    startParams: [...pgliteStartParams],
    extensions: { pg_trgm },
  });
  const db = drizzlePglite(client) as unknown as Db;
  return {
    db,
    kind: "pglite",
    migrate: () => migratePglite(client),
    close: () => client.close(),
  };
}
