import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";
import { createDatabase, type Database, type DatabaseKind } from "../../src/platform/db/database.js";

/** Both engines oCore supports; database tests run against each. */
export const databaseKinds: readonly DatabaseKind[] = ["pglite", "postgres"];

export interface TestDatabase extends Database {
  /** The connection URL (PostgreSQL only), for tests that start a server process. */
  readonly url: string | undefined;
}

/**
 * A fresh, empty, migrated database of the given kind: an in-memory PGlite, or a new database
 * on the test PostgreSQL server that is dropped again on close.
 */
export async function createTestDatabase(
  kind: DatabaseKind,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  if (kind === "pglite") {
    const database = createDatabase({ kind: "pglite" });
    if (options.migrate !== false) await database.migrate();
    return { ...database, url: undefined };
  }
  const url = await createPostgresDatabase();
  const database = createDatabase({ kind: "postgres", url, poolSize: 4 });
  if (options.migrate !== false) await database.migrate();
  return {
    ...database,
    url,
    close: async () => {
      await database.close();
      await dropPostgresDatabase(url);
    },
  };
}

/** Creates an empty database on the test PostgreSQL server and returns its URL. */
export async function createPostgresDatabase(): Promise<string> {
  const admin = inject("postgresAdminUrl");
  const name = `ocore_test_${randomBytes(6).toString("hex")}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create database ${name}`);
  } finally {
    await sql.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropPostgresDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const sql = postgres(inject("postgresAdminUrl"), { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop database if exists ${name} with (force)`);
  } finally {
    await sql.end();
  }
}
