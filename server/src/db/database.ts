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
  // pg_trgm backs the fleet list's substring search (migration 0006 creates the extension).
  const client = new PGlite({ dataDir: options.dir, extensions: { pg_trgm } });
  const db = drizzlePglite(client) as unknown as Db;
  return {
    db,
    kind: "pglite",
    migrate: () => migratePglite(client),
    close: () => client.close(),
  };
}
