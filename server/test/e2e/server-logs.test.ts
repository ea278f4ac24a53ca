import { afterEach, describe, expect, it } from "vitest";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** The number of keys at the top level of one JSON object line, duplicates included. */
function topLevelKeyCount(line: string): number {
  let depth = 0;
  let keys = 0;
  let inString = false;
  let stringStart = 0;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') {
        inString = false;
        // A string directly followed by ':' at depth 1 is a top-level key.
        if (
          depth === 1 &&
          line
            .slice(i + 1)
            .trimStart()
            .startsWith(":") &&
          stringStart >= 0
        )
          keys++;
      }
      continue;
    }
    if (char === '"') {
      inString = true;
      stringStart = i;
    } else if (char === "{" || char === "[") depth++;
    else if (char === "}" || char === "]") depth--;
  }
  return keys;
}

function logLines(server: ServerProcess): LogLine[] {
  return server
    .stdout()
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const entry = JSON.parse(line) as LogLine;
      expect(topLevelKeyCount(line), `duplicate keys in ${line}`).toBe(Object.keys(entry).length);
      return entry;
    });
}

const atLeastWarn = (lines: LogLine[]) => lines.filter((line) => line.level >= 40);

describe("the server's own log on the embedded database", () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it("starts cleanly, without duplicate fields, and says when it stopped", async () => {
    server = await startServerProcess();
    const { dataDir } = server;
    // Let the background parts (provisioning worker, backup scheduler, listeners) settle.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // The first start generates the master key and says to back it up: the one expected warning.
    expect(atLeastWarn(logLines(server)).map((line) => line.msg)).toEqual([
      expect.stringContaining("generated a master key"),
    ]);
    expect(await server.stop()).toBe(0);
    const lines = logLines(server);
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: "stopped", signal: "SIGTERM" });

    server = await startServerProcess({ OCORE_DATA_DIR: dataDir });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(atLeastWarn(logLines(server))).toEqual([]);
  }, 180_000);
});
