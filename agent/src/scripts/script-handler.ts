import { execFile, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import {
  ScriptRunResultSchema,
  ScriptRunSchema,
} from "@ocore/proto/gen/ocore/agent/v1/script_commands_pb.js";
import { CommandError, defineHandler, type OutputStreamName } from "../commands/command-handler.js";
import { hostProbe, type LaunchPlan, planLaunch, type SandboxProbe } from "./sandbox.js";
import { checkScriptRun, findInterpreter } from "./script-command.js";

/** How long a stopped script gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 5_000;
const DEFAULT_MAX_OUTPUT = 1024 * 1024;

/**
 * ScriptRun: a reviewed template script, run in the strongest sandbox the host offers
 * (sandbox.ts), its output streamed live (bounded by max_output_bytes), stopped with its whole
 * process group (or unit) on timeout, cancel or the command's deadline.
 */
export function createScriptHandler(probe: SandboxProbe = hostProbe) {
  return defineHandler({
    input: ScriptRunSchema,
    output: ScriptRunResultSchema,
    async run(spec, context) {
      checkScriptRun(spec);
      const interpreter = await findInterpreter(spec.interpreter);
      const plan = await planLaunch(spec, interpreter, context.commandId, probe);
      await context.output("progress", `${plan.description}\n`);
      const limit = spec.maxOutputBytes || DEFAULT_MAX_OUTPUT;
      let sent = 0;
      let total = 0;
      const forward = async (stream: OutputStreamName, chunk: Buffer) => {
        total += chunk.byteLength;
        if (sent >= limit) return;
        const part = chunk.subarray(0, limit - sent);
        sent += part.byteLength;
        await context.output(stream, part);
      };
      const ended = await launch(plan, spec.timeoutSeconds * 1000, context.signal, forward);
      const truncated = total > sent;
      if (truncated) {
        await context.output(
          "progress",
          `output truncated: ${total} bytes written, the first ${sent} kept\n`,
        );
      }
      if (ended.timedOut) {
        throw new CommandError(
          "script_timeout",
          `the script did not finish within ${spec.timeoutSeconds} s and was killed with its processes (sandbox: ${plan.sandbox})`,
          124,
        );
      }
      if (ended.code !== 0) {
        throw new CommandError(
          "script_failed",
          `the script exited with ${ended.code}${ended.signal ? ` (${ended.signal})` : ""} (sandbox: ${plan.sandbox})`,
          ended.code,
        );
      }
      return { sandbox: plan.sandbox, outputTruncated: truncated, outputBytes: BigInt(total) };
    },
  });
}

interface Ended {
  readonly code: number;
  readonly signal: string | null;
  readonly timedOut: boolean;
}

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGXCPU: 24 };

function launch(
  plan: LaunchPlan,
  timeoutMs: number,
  signal: AbortSignal,
  forward: (stream: OutputStreamName, chunk: Buffer) => Promise<void>,
): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(plan.file, [...plan.args], {
      env: plan.env,
      cwd: "/",
      detached: true, // its own process group: stopping it stops everything it started
      stdio: ["ignore", "pipe", "pipe"],
      uid: plan.uid,
      gid: plan.gid,
    });
    let timedOut = false;
    let stopping: NodeJS.Timeout | undefined;
    const stop = () => {
      if (stopping) return;
      if (plan.unit) execFile("systemctl", ["stop", "--no-block", `${plan.unit}.service`], () => {});
      const kill = (sig: NodeJS.Signals) => {
        try {
          if (child.pid) process.kill(-child.pid, sig);
        } catch {
          // already gone
        }
      };
      kill("SIGTERM");
      stopping = setTimeout(() => kill("SIGKILL"), KILL_GRACE_MS);
      stopping.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    const onAbort = () => stop();
    signal.addEventListener("abort", onAbort, { once: true });
    const pump = (stream: Readable, name: OutputStreamName) =>
      (async () => {
        for await (const chunk of stream) await forward(name, chunk as Buffer);
      })();
    const pumps = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);
    child.once("error", (error) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      reject(new CommandError("spawn_failed", `could not start ${plan.file}: ${error.message}`));
    });
    child.once("close", (code, sig) => {
      clearTimeout(timer);
      if (stopping) clearTimeout(stopping);
      signal.removeEventListener("abort", onAbort);
      pumps.then(
        () => resolve({ code: code ?? 128 + (signalNumbers[sig ?? ""] ?? 0), signal: sig, timedOut }),
        reject,
      );
    });
  });
}
