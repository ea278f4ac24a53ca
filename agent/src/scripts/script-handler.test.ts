import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type ScriptRun, ScriptRunSchema } from "@ocore/proto/gen/ocore/agent/v1/script_commands_pb.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandContext, OutputStreamName } from "../commands/command-handler.js";
import { hostProbe, planLaunch, type SandboxProbe } from "./sandbox.js";
import { createScriptHandler } from "./script-handler.js";

/** Without systemd as PID 1 (this test machine), so the process sandbox runs for real. */
const processProbe: SandboxProbe = { ...hostProbe, systemd: async () => false };
const handler = createScriptHandler(processProbe);

function spec(fields: MessageInitShape<typeof ScriptRunSchema>): ScriptRun {
  return create(ScriptRunSchema, {
    interpreter: "bash",
    runAs: "root",
    timeoutSeconds: 30,
    maxOutputBytes: 1024 * 1024,
    ...fields,
  });
}

async function runScript(
  fields: MessageInitShape<typeof ScriptRunSchema>,
  signal = new AbortController().signal,
) {
  const chunks: Array<[OutputStreamName, Buffer]> = [];
  const context: CommandContext = {
    commandId: "00000000-0000-4000-8000-000000000001",
    signal,
    output: async (stream, data) => {
      chunks.push([stream, Buffer.from(data)]);
    },
  };
  const text = (stream: OutputStreamName) =>
    Buffer.concat(chunks.filter(([s]) => s === stream).map(([, d]) => d)).toString("utf8");
  try {
    const result = await handler.run(spec(fields), context);
    return {
      result,
      error: undefined,
      stdout: text("stdout"),
      stderr: text("stderr"),
      progress: text("progress"),
    };
  } catch (error) {
    return {
      result: undefined,
      error: error as Error & { code?: string; exitCode?: number },
      stdout: text("stdout"),
      stderr: text("stderr"),
      progress: text("progress"),
    };
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "ocore-script-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const HOSTILE = [
  "$(touch CANARY)",
  "`touch CANARY`",
  "'; touch CANARY; echo '",
  '"; touch CANARY; echo "',
  "\n touch CANARY",
  "a\ntouch CANARY",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion as a hostile value
  "${IFS}touch${IFS}CANARY",
  "$((1+1))",
  "| touch CANARY",
  "&& touch CANARY",
  "; touch CANARY #",
  "-e touch CANARY",
  "--help",
  "*",
  "~root",
  "\\",
  "\u202etouch CANARY",
  "é\u00a0漢字🙂",
  "",
];

describe("ScriptRun in the process sandbox (real bash processes)", () => {
  it("passes values only as argv and environment: no value ever changes what runs", async () => {
    const canary = path.join(dir, "CANARY");
    // Each value is printed back exactly (argv and env), and nothing else happens.
    const script =
      'cd "$OCORE_DIR"; printf "%s" "$1"; printf "\\0"; printf "%s" "$OCORE_PARAM_VALUE"; printf "\\0%s" "$#"';
    const value = fc
      .oneof(
        fc.constantFrom(...HOSTILE),
        fc.string({ unit: "binary", maxLength: 60 }),
        fc
          .array(fc.constantFrom(...HOSTILE, "$", "`", "'", '"', "\n", "\t", " ", ";", "\\", "a"), {
            maxLength: 8,
          })
          .map((parts) => parts.join("")),
      )
      .filter((v) => !v.includes("\0"));
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const out = await runScript({ script, argv: [v], env: { OCORE_PARAM_VALUE: v, OCORE_DIR: dir } });
        expect(out.error).toBeUndefined();
        expect(out.stdout).toBe(`${v}\0${v}\0${1}`);
        expect(existsSync(canary)).toBe(false);
      }),
      { numRuns: 120 },
    );
  }, 120_000);

  it("reports non-zero exits with their code, and says which sandbox ran it", async () => {
    const out = await runScript({ script: "echo before; echo oops >&2; exit 7" });
    expect(out.error).toMatchObject({ code: "script_failed", exitCode: 7 });
    expect(out.stdout).toBe("before\n");
    expect(out.stderr).toBe("oops\n");
    expect(out.progress).toMatch(/^sandbox: process \(own process group killed on timeout, ulimits --core=0/);
  });

  it("runs as the template's user when the agent is root", async () => {
    const out = await runScript({ script: "id -un", runAs: "nobody" });
    expect(out.error).toBeUndefined();
    expect(out.stdout.trim()).toBe("nobody");
    expect(out.result?.sandbox).toBe("process");
  });

  it("kills the whole process group on timeout (background children too)", async () => {
    const pidFile = path.join(dir, "bg.pid");
    const started = Date.now();
    const out = await runScript({ script: `sleep 60 & echo $! > ${pidFile}; wait`, timeoutSeconds: 1 });
    expect(out.error).toMatchObject({ code: "script_timeout" });
    expect(Date.now() - started).toBeLessThan(8_000);
    const pid = Number((await readFile(pidFile, "utf8")).trim());
    await new Promise((r) => setTimeout(r, 200));
    // The background sleep is gone (or a zombie waiting for this container's init to reap it).
    const state = await readFile(`/proc/${pid}/stat`, "utf8").then(
      (stat) => stat.split(") ")[1]?.[0],
      () => "gone",
    );
    expect(["gone", "Z", "X"]).toContain(state);
  });

  it("stops the process group when the command is cancelled", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("cancelled")), 300);
    const started = Date.now();
    const out = await runScript({ script: "sleep 60" }, controller.signal);
    expect(out.error).toBeDefined();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("bounds the output it sends and says so", async () => {
    const out = await runScript({ script: "head -c 200000 /dev/zero | tr '\\0' x", maxOutputBytes: 1000 });
    expect(out.error).toBeUndefined();
    expect(out.stdout).toBe("x".repeat(1000));
    expect(out.result).toMatchObject({ outputTruncated: true, outputBytes: 200000n });
    expect(out.progress).toContain("output truncated: 200000 bytes written, the first 1000 kept");
  });

  it("gives python3 its arguments as sys.argv[1:]", async () => {
    const out = await runScript({
      interpreter: "python3",
      script: "import sys; print(sys.argv[1:])",
      argv: ["a b", "$(x)"],
    });
    expect(out.error).toBeUndefined();
    expect(out.stdout.trim()).toBe("['a b', '$(x)']");
  });

  it("refuses specs the server would never send", async () => {
    expect((await runScript({ interpreter: "perl", script: "1" })).error).toMatchObject({
      code: "invalid_argument",
    });
    expect((await runScript({ script: "true", env: { "BAD-NAME": "x" } })).error).toMatchObject({
      code: "invalid_argument",
    });
    expect((await runScript({ script: "true", runAs: "no-such-user-xyz" })).error).toMatchObject({
      code: "user_unknown",
    });
  });
});

describe("the systemd sandbox plan", () => {
  it("builds a transient unit with the limits, the user, and each value as its own argument", async () => {
    const probe: SandboxProbe = { ...hostProbe, systemd: async () => true, uid: () => 0 };
    const hostile = "x; touch /CANARY $(id)";
    const plan = await planLaunch(
      spec({
        script: 'echo "$1"',
        argv: [hostile],
        env: { OCORE_PARAM_X: hostile },
        runAs: "nobody",
        timeoutSeconds: 90,
        memoryMaxMb: 64,
        cpuQuotaPercent: 50,
        tasksMax: 16,
        writePaths: ["/var/log/odoo"],
      }),
      "/usr/bin/bash",
      "abc",
      probe,
    );
    expect(plan.sandbox).toBe("systemd");
    expect(plan.file).toBe("/usr/bin/systemd-run");
    const args = [...plan.args];
    expect(args.slice(0, 6)).toEqual([
      "--wait",
      "--pipe",
      "--collect",
      "--quiet",
      "--service-type=exec",
      "--unit=ocore-run-abc",
    ]);
    for (const property of [
      "ProtectSystem=strict",
      "PrivateTmp=yes",
      "NoNewPrivileges=yes",
      "RuntimeMaxSec=90",
      "MemoryMax=64M",
      "CPUQuota=50%",
      "TasksMax=16",
      "ReadWritePaths=-/var/log/odoo",
    ]) {
      expect(args[args.indexOf(property) - 1]).toBe("-p");
    }
    expect(args).toContain("--uid=nobody");
    expect(args).toContain(`--setenv=OCORE_PARAM_X=${hostile}`);
    expect(args.slice(args.indexOf("--") + 1)).toEqual([
      "/usr/bin/bash",
      "-c",
      'echo "$1"',
      "ocore-template",
      hostile,
    ]);
  });
});
