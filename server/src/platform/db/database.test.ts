import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from "../../../test/support/test-databases.js";
import { ensureInstallation } from "../../domain/installation/ensure-installation.js";
import { getSystemInfo } from "../../domain/system/system-info.js";
import { rowsOf } from "./rows-of.js";

describe.each(databaseKinds)("database on %s", (kind) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it("applies the committed migrations, and applying them again changes nothing", async () => {
    database = await createTestDatabase(kind);
    const journal = async () =>
      rowsOf<{ hash: string }>(
        await database?.db.execute(sql`select hash from public.schema_migrations order by id`),
      );
    const first = await journal();
    expect(first.length).toBeGreaterThan(0);
    await database.migrate();
    expect(await journal()).toEqual(first);
  });

  it("creates the installation once and keeps its id", async () => {
    database = await createTestDatabase(kind);
    const first = await ensureInstallation(database.db);
    const second = await ensureInstallation(database.db);
    expect(second.id).toBe(first.id);
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    await expect(
      database.db.execute(sql`insert into installation (singleton) values (false)`),
    ).rejects.toThrow();
  });

  it("reports the engine and its version", async () => {
    database = await createTestDatabase(kind);
    const startedAt = new Date("2026-01-01T00:00:00Z");
    const info = await getSystemInfo({
      db: database.db,
      databaseKind: database.kind,
      version: "9.9.9",
      startedAt,
      installationId: "id",
      now: () => new Date(startedAt.getTime() + 90_000),
    });
    expect(info.databaseKind).toBe(kind);
    expect(info.databaseVersion).toMatch(/^PostgreSQL \d+(\.\d+)?/);
    expect(info.uptimeMs).toBe(90_000);
  });
});

describe("the embedded database's memory settings", () => {
  it("runs PGlite with a small shared memory, which PGlite's WebAssembly memory keeps for good", async () => {
    const database = await createTestDatabase("pglite", { migrate: false });
    try {
      const setting = async (name: string) =>
        rowsOf<Record<string, string>>(await database.db.execute(sql.raw(`show ${name}`)))[0]?.[name];
      expect(await setting("shared_buffers")).toBe("16MB");
      expect(await setting("maintenance_work_mem")).toBe("16MB");
      // Derived from shared_buffers (1/32): confirms the setting took effect where it is sized.
      expect(await setting("wal_buffers")).toBe("512kB");
    } finally {
      await database.close();
    }
  });
});
