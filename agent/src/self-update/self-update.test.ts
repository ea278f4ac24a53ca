import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { AgentUpgradeSchema } from "@ocore/proto/gen/ocore/agent/v1/agent_commands_pb.js";
import { describe, expect, it } from "vitest";
import { CommandError } from "../commands/command-handler.js";
import { createCaptureLogger } from "../test/capture-logger.js";
import { readInstallLayout } from "./install-layout.js";
import { createAgentUninstallHandler } from "./uninstall-handler.js";
import { startUpgradeGuard } from "./upgrade-guard.js";
import { createAgentUpgradeHandler } from "./upgrade-handler.js";
import { readUpgradeMarker, writeUpgradeMarker } from "./upgrade-marker.js";

/** A prefix as install-agent.sh lays it out: bin/ocore-agent (+ .prev), etc/install.conf. */
function installedPrefix(mode = "supervised") {
  const prefix = mkdtempSync(path.join(os.tmpdir(), "ocore-self-update-"));
  mkdirSync(path.join(prefix, "bin"));
  mkdirSync(path.join(prefix, "etc"));
  mkdirSync(path.join(prefix, "libexec"));
  const executable = path.join(prefix, "bin/ocore-agent");
  writeFileSync(executable, "new", { mode: 0o755 });
  writeFileSync(`${executable}.prev`, "previous", { mode: 0o755 });
  writeFileSync(
    path.join(prefix, "etc/install.conf"),
    `mode=${mode}\nunit=ocore-agent-test\nprefix=${prefix}\n`,
  );
  return { prefix, executable };
}

const context = {
  commandId: "c1",
  signal: new AbortController().signal,
  output: async () => {},
};

describe("the install layout", () => {
  it("is read from the prefix the executable lives in", async () => {
    const { prefix, executable } = installedPrefix("systemd");
    const layout = await readInstallLayout(executable, true);
    expect(layout).toMatchObject({
      prefix,
      mode: "systemd",
      unitName: "ocore-agent-test",
      marker: `${executable}.upgrade`,
      uninstallScript: path.join(prefix, "libexec/uninstall-agent.sh"),
    });
  });

  it("refuses an agent running under Node.js, and one not installed by the script", async () => {
    await expect(readInstallLayout("/usr/bin/node", false)).rejects.toMatchObject({ code: "not_installed" });
    await expect(readInstallLayout("/nowhere/bin/ocore-agent", true)).rejects.toThrow(/install-agent\.sh/);
  });
});

describe("the upgrade command", () => {
  const upgrade = (layout: () => ReturnType<typeof readInstallLayout>) =>
    createAgentUpgradeHandler({
      config: { server: undefined, stateDir: "/nonexistent/ocore-agent" },
      layout,
      agentVersion: () => "1.0.0",
      afterFinish: () => {},
      stop: () => {},
    });

  it("validates its spec before touching anything", async () => {
    const handler = upgrade(() => Promise.reject(new Error("must not be reached")));
    const bad = create(AgentUpgradeSchema, { version: "1.0.1", sha256: "xyz", size: 10n });
    await expect(handler.run(bad, context)).rejects.toMatchObject({ code: "invalid_argument" });
  });

  it("refuses while an earlier upgrade is unconfirmed", async () => {
    const { executable } = installedPrefix();
    await writeUpgradeMarker(`${executable}.upgrade`, { from: "0.9.0", to: "1.0.0", attempts: 1 });
    const handler = upgrade(() => readInstallLayout(executable, true));
    const spec = create(AgentUpgradeSchema, { version: "1.0.1", sha256: "a".repeat(64), size: 10n });
    const error = await handler.run(spec, context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ code: "upgrade_in_progress" });
  });
});

describe("the upgrade guard after a restart", () => {
  it("confirms the upgrade on the first Welcome", async () => {
    const { executable } = installedPrefix();
    await writeUpgradeMarker(`${executable}.upgrade`, { from: "1.0.0", to: "1.1.0", attempts: 1 });
    const exits: number[] = [];
    const guard = await startUpgradeGuard({
      logger: createCaptureLogger().logger,
      version: "1.1.0",
      executable,
      runningAsExecutable: true,
      timeoutMs: 5_000,
      exit: (code) => exits.push(code),
    });
    guard.onWelcome();
    await expect.poll(() => existsSync(`${executable}.upgrade`)).toBe(false);
    guard.stop();
    expect(readFileSync(executable, "utf8")).toBe("new");
    expect(exits).toEqual([]);
  });

  it("puts the previous executable back and exits 1 when the server is not reached in time", async () => {
    const { executable } = installedPrefix();
    await writeUpgradeMarker(`${executable}.upgrade`, { from: "1.0.0", to: "1.1.0", attempts: 1 });
    const exits: number[] = [];
    await startUpgradeGuard({
      logger: createCaptureLogger().logger,
      version: "1.1.0",
      executable,
      runningAsExecutable: true,
      timeoutMs: 50,
      exit: (code) => exits.push(code),
    });
    await expect.poll(() => exits).toEqual([1]);
    expect(readFileSync(executable, "utf8")).toBe("previous");
    expect(existsSync(`${executable}.prev`)).toBe(false);
    expect(await readUpgradeMarker(`${executable}.upgrade`)).toBeUndefined();
  });
});

describe("the uninstall command", () => {
  it("finishes first, then starts uninstall-agent.sh detached with the prefix and unit", async () => {
    const { prefix, executable } = installedPrefix();
    const script = path.join(prefix, "libexec/uninstall-agent.sh");
    writeFileSync(script, "#!/bin/sh\n", { mode: 0o755 });
    const later: Array<() => void> = [];
    const launched: Array<[string, readonly string[]]> = [];
    const handler = createAgentUninstallHandler({
      layout: () => readInstallLayout(executable, true),
      afterFinish: (action) => later.push(action),
      launch: (command, args) => launched.push([command, args]),
    });
    expect(await handler.run({ $typeName: "ocore.agent.v1.AgentUninstall" }, context)).toEqual({
      mode: "supervised",
    });
    expect(launched).toEqual([]);
    for (const action of later) action();
    expect(launched).toEqual([[script, ["--prefix", prefix, "--unit-name", "ocore-agent-test"]]]);
  });

  it("refuses when the uninstall script is missing", async () => {
    const { executable } = installedPrefix();
    const handler = createAgentUninstallHandler({ layout: () => readInstallLayout(executable, true) });
    await expect(handler.run({ $typeName: "ocore.agent.v1.AgentUninstall" }, context)).rejects.toMatchObject({
      code: "uninstall_failed",
    });
  });
});
