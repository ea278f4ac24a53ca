import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDatabase } from "./database.js";
import { prepareEmbeddedDatabase } from "./embedded-database.js";
import { rowsOf } from "./rows-of.js";

// The child process runs the built entry (server/dist), like the e2e tests run dist/main.js.
describe("prepareEmbeddedDatabase", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "ocore-embedded-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("creates and migrates a new database in a child process, then moves it into place", async () => {
    const dir = path.join(root, "pglite");
    mkdirSync(dir); // an empty directory is replaced, as on a data directory made by hand
    await prepareEmbeddedDatabase({ kind: "pglite", dir });

    expect(existsSync(path.join(dir, "PG_VERSION"))).toBe(true);
    expect(readdirSync(root)).toEqual(["pglite"]); // the building directory is gone
    const database = createDatabase({ kind: "pglite", dir });
    try {
      // Migrated by the child: this process has not run migrate().
      const applied = rowsOf(await database.db.execute(sql`select hash from public.schema_migrations`));
      expect(applied.length).toBeGreaterThan(0);
    } finally {
      await database.close();
    }
  }, 120_000);

  it("leaves a directory that is not empty alone", async () => {
    const dir = path.join(root, "pglite");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "something"), "not ours to replace");
    await prepareEmbeddedDatabase({ kind: "pglite", dir });
    expect(readdirSync(dir)).toEqual(["something"]);
    expect(readdirSync(root)).toEqual(["pglite"]);
  });

  it("does nothing for PostgreSQL or an in-memory PGlite", async () => {
    await prepareEmbeddedDatabase({ kind: "pglite" });
    await prepareEmbeddedDatabase({ kind: "postgres", url: "postgres://nowhere.invalid/x" });
    expect(readdirSync(root)).toEqual([]);
  });

  it("reports the child's own message when it cannot create the database", async () => {
    // Even root cannot make directories in sysfs: the child fails, as on a full or read-only disk.
    const dir = path.join("/sys", `ocore-test-${process.pid}`, "pglite");
    await expect(prepareEmbeddedDatabase({ kind: "pglite", dir })).rejects.toThrow(
      /creating the database exited with 1: .*mkdir .*pglite\.creating/,
    );
  });
});
