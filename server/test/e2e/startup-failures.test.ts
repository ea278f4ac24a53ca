import { existsSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFailingServer, startServerProcess, tempDataDir } from "../support/server-process.js";
import { createPostgresDatabase, dropPostgresDatabase } from "../support/test-databases.js";

/** What a refusing server must say: exactly one line, naming the setting, ending with the fix. */
function expectOneClearLine(stderr: string, setting: string, problem: RegExp): void {
  const lines = stderr.split("\n").filter((line) => line.trim() !== "");
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^ocore-server: cannot start: ${setting}: `));
  expect(lines[0]).toMatch(problem);
}

describe("a server that cannot start says why in one line and leaves nothing behind", () => {
  let busy: net.Server;
  let busyPort: number;
  beforeAll(async () => {
    busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    busyPort = (busy.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it.each([
    ["a malformed DATABASE_URL", { DATABASE_URL: "postgres//oops" }, "DATABASE_URL", /not a URL/],
    [
      "an unreachable database",
      { DATABASE_URL: "postgres://u:p@127.0.0.1:1/ocore" },
      "DATABASE_URL",
      /nothing accepts/,
    ],
    ["an invalid log level", { OCORE_LOG_LEVEL: "loud" }, "OCORE_LOG_LEVEL", /invalid value "loud"/],
    ["a misspelt setting", { OCORE_HTTP_ADR: "x" }, "OCORE_HTTP_ADR", /Did you mean OCORE_HTTP_ADDR\?/],
  ])("%s", async (_name, env, setting, problem) => {
    const result = await runFailingServer({ OCORE_DATA_DIR: tempDataDir(), ...env });
    expect(result.code).toBe(1);
    expectOneClearLine(result.stderr, setting, problem);
  });

  it("an unwritable data directory", async () => {
    const file = path.join(tempDataDir(), "a-file");
    writeFileSync(file, "");
    const result = await runFailingServer({ OCORE_DATA_DIR: path.join(file, "data") });
    expect(result.code).toBe(1);
    expectOneClearLine(result.stderr, "OCORE_DATA_DIR", /is not a writable directory \(ENOTDIR\)/);
  });

  it("a port in use, after the database was opened: the database is closed and the lock released", async () => {
    const dataDir = tempDataDir();
    const result = await runFailingServer({
      OCORE_DATA_DIR: dataDir,
      OCORE_HTTP_ADDR: `127.0.0.1:${busyPort}`,
    });
    expect(result.code).toBe(1);
    expectOneClearLine(result.stderr, "OCORE_HTTP_ADDR", /is already in use/);
    expect(result.stdout).toContain('"msg":"database ready"');
    expect(existsSync(path.join(dataDir, "server.lock"))).toBe(false);
  });

  it("a data directory another server is using: the running one is untouched", async () => {
    const running = await startServerProcess();
    try {
      const result = await runFailingServer({ OCORE_DATA_DIR: running.dataDir });
      expect(result.code).toBe(1);
      expectOneClearLine(
        result.stderr,
        "OCORE_DATA_DIR",
        /another oCore server \(pid \d+\) is using .*; its embedded PGlite database is single-node/,
      );
      expect(result.stderr).toContain("set DATABASE_URL to one PostgreSQL database");
      expect((await fetch(`${running.url}/readyz`)).status).toBe(200);
    } finally {
      await running.stop();
    }
  });

  it("a replica without the first server's master key: refused, and nothing written to its data directory", async () => {
    const databaseUrl = await createPostgresDatabase();
    try {
      const first = await startServerProcess({ DATABASE_URL: databaseUrl });
      await first.stop();
      const replicaDir = tempDataDir();
      const result = await runFailingServer({ DATABASE_URL: databaseUrl, OCORE_DATA_DIR: replicaDir });
      expect(result.code).toBe(1);
      expectOneClearLine(
        result.stderr,
        "OCORE_MASTER_KEY",
        /sealed with master key \S+, and this server has no master key/,
      );
      expect(existsSync(path.join(replicaDir, "master.key"))).toBe(false);
    } finally {
      await dropPostgresDatabase(databaseUrl);
    }
  });
});
