import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const agentDir = new URL("../../", import.meta.url).pathname;
const executable = path.join(agentDir, "dist-sea/ocore-agent");
const env = () => ({
  PATH: process.env.PATH,
  OCORE_AGENT_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), "ocore-agent-logs-")),
  OCORE_AGENT_DOCKER_SOCKET: "off",
});
const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

// The single executable (npm run build) bundles pino-pretty: it must format there, without workers.
describe("the agent executable's log", () => {
  it("is built", () => {
    expect(existsSync(executable), `${executable} is missing: npm run build -w @ocore/agent`).toBe(true);
  });

  it("is readable lines in a terminal", async () => {
    // util-linux `script` gives the command a pseudo-terminal as stdout.
    const { stdout } = await run("script", ["-qec", `${quote(executable)} check-config`, "/dev/null"], {
      env: env(),
    });
    expect(stdout).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*configuration is valid/m);
    expect(stdout).not.toContain('"level":30');
  });

  it("is JSON lines otherwise", async () => {
    const { stdout } = await run(executable, ["check-config"], { env: env() });
    const [line] = stdout.trim().split("\n");
    expect(JSON.parse(line ?? "")).toMatchObject({
      level: 30,
      service: "ocore-agent",
      msg: "configuration is valid",
    });
  });
});
