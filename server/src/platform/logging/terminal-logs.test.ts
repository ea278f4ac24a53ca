import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const builtLogger = new URL("../../../dist/platform/logging/logger.js", import.meta.url).pathname;
// What the server does at start: the root logger on stdout, one line, then exit at once.
const script = `import { createLogger } from ${JSON.stringify(builtLogger)}; createLogger("info").info({ url: "http://x" }, "oCore is ready"); process.exit(0);`;
const node = [process.execPath, "--input-type=module", "-e", script];
const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

describe("the server's log", () => {
  it("is readable lines in a terminal, written before the process exits", async () => {
    // util-linux `script` gives the command a pseudo-terminal as stdout.
    const { stdout } = await run("script", ["-qec", node.map(quote).join(" "), "/dev/null"]);
    expect(stdout).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*oCore is ready/m);
    expect(stdout).toMatch(/url\S*: "http:\/\/x"/);
    expect(stdout).not.toContain('"level":30');
  });

  it("is JSON lines otherwise", async () => {
    const [command = "", ...args] = node;
    const { stdout } = await run(command, args);
    expect(JSON.parse(stdout)).toMatchObject({ level: 30, service: "ocore-server", msg: "oCore is ready" });
  });
});
