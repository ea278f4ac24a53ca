// Benchmark-only command handlers (never in the agent's production registry): they use
// well-known protobuf types so the benchmark needs no contract of its own.
import { execFile } from "node:child_process";
import { StringValueSchema, UInt64ValueSchema } from "@bufbuild/protobuf/wkt";
import { CommandError, defineHandler } from "@ocore/agent/testing";
import {
  ScriptRunResultSchema,
  ScriptRunSchema,
} from "@ocore/proto/gen/ocore/agent/v1/script_commands_pb.js";

/** One block shared by every command (output is only read), so a tiny command allocates nothing. */
const block = Buffer.alloc(64 * 1024, "x");

/** Emits `value` bytes of output (in 64 KiB writes) and returns how many it sent. */
export const produceOutput = defineHandler({
  input: UInt64ValueSchema,
  output: UInt64ValueSchema,
  async run(args, context) {
    const total = Number(args.value);
    let sent = 0;
    while (sent < total) {
      const size = Math.min(block.byteLength, total - sent);
      await context.output("stdout", block.subarray(0, size));
      sent += size;
    }
    return { value: BigInt(sent) };
  },
});

/** Runs a program (no shell: "uname -a" → execFile("uname", ["-a"])) and streams its stdout. */
export const runProgram = defineHandler({
  input: StringValueSchema,
  output: StringValueSchema,
  run: (args, context) =>
    new Promise((resolve, reject) => {
      const [program, ...rest] = args.value.split(" ");
      execFile(program ?? "", rest, { signal: context.signal }, (error, stdout) => {
        if (error) {
          reject(new CommandError("program_failed", error.message));
          return;
        }
        context.output("stdout", stdout).then(() => resolve({ value: "ok" }), reject);
      });
    }),
});

/**
 * A template run (ScriptRun) without forking the interpreter: echoes its argv like the script
 * `echo ok "$@"` would, and fails like `exit 1` when the rendered env says FAIL=1 (bench:runs
 * injects failures through a tag placeholder). Measures the server's run machinery, not fork().
 */
export const scriptRunEcho = defineHandler({
  input: ScriptRunSchema,
  output: ScriptRunResultSchema,
  async run(spec, context) {
    await context.output("progress", "sandbox: bench (no fork)\n");
    if (spec.env.FAIL === "1") throw new CommandError("script_failed", "the script exited with 1 (injected)");
    await context.output("stdout", `ok ${spec.argv.join(" ")}\n`);
    return { sandbox: "bench" };
  },
});
