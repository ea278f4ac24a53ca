// Benchmark-only command handlers (never in the agent's production registry): they use
// well-known protobuf types so the benchmark needs no contract of its own.
import { execFile } from "node:child_process";
import { StringValueSchema, UInt64ValueSchema } from "@bufbuild/protobuf/wkt";
import { CommandError, defineHandler } from "@ocore/agent/testing";

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
