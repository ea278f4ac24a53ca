import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DockerContainerExecResultSchema,
  DockerContainerExecSchema,
  DockerContainerLogsResultSchema,
  DockerContainerLogsSchema,
} from "@ocore/proto/gen/ocore/agent/v1/docker_commands_pb.js";
import {
  type CommandContext,
  CommandError,
  type CommandHandler,
  defineHandler,
} from "../commands/command-handler.js";
import { type DockerDeps, inspectContainer } from "./docker-deps.js";
import { engineCall } from "./docker-errors.js";
import { createCapture, destroyOnAbort, pumpDockerStream, type StreamSink } from "./docker-streams.js";
import {
  checkCommand,
  checkContainerRef,
  checkEnv,
  checkUser,
  checkWorkingDir,
} from "./docker-validation.js";

/** How much of each exec stream the result keeps (all of it goes out as output). */
export const EXEC_CAPTURE_BYTES = 64 * 1024;

/**
 * Pumps a Docker stream into the command's output until it ends or the command is cancelled.
 * A cancelled pump rethrows the abort reason, so the executor reports cancelled / timed out.
 */
async function pumpUntilDone(
  source: Readable,
  tty: boolean,
  sink: StreamSink,
  signal: AbortSignal,
): Promise<void> {
  const stopListening = destroyOnAbort(source, signal);
  try {
    await pumpDockerStream(source, tty, sink);
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    stopListening();
  }
  if (signal.aborted) throw signal.reason ?? new Error("cancelled");
}

function forwardTo(context: CommandContext, counted: (data: Uint8Array) => void): StreamSink {
  return async (stream, data) => {
    counted(data);
    await context.output(stream, data);
  };
}

export function containerIoHandlers(deps: DockerDeps): CommandHandler[] {
  const { docker, socketPath } = deps;

  const logs = defineHandler({
    input: DockerContainerLogsSchema,
    output: DockerContainerLogsResultSchema,
    async run(spec, context) {
      const ref = checkContainerRef(spec.container);
      const info = await inspectContainer(deps, ref, context.signal);
      const options = {
        stdout: true,
        stderr: true,
        tail: spec.tailLines > 0 ? spec.tailLines : undefined,
        since: spec.since ? Number(spec.since.seconds) : undefined,
        timestamps: spec.timestamps,
        signal: context.signal,
      };
      let bytes = 0n;
      const sink = forwardTo(context, (data) => {
        bytes += BigInt(data.length);
      });
      // Streamed even without follow: dockerode would buffer a whole log (and try to parse it).
      const source = await engineCall(`container ${ref}`, socketPath, () =>
        logStream(deps, info.Id, { ...options, follow: spec.follow }),
      );
      await pumpUntilDone(source, info.Config.Tty, sink, context.signal);
      return { bytes };
    },
  });

  const exec = defineHandler({
    input: DockerContainerExecSchema,
    output: DockerContainerExecResultSchema,
    async run(spec, context) {
      const ref = checkContainerRef(spec.container);
      const command = checkCommand(spec.command, "command", true);
      const created = await engineCall(`container ${ref}`, socketPath, () =>
        docker.getContainer(ref).exec({
          Cmd: command,
          Env: checkEnv(spec.env),
          WorkingDir: checkWorkingDir(spec.workingDir),
          User: checkUser(spec.user),
          AttachStdin: false,
          AttachStdout: true,
          AttachStderr: true,
          Tty: false,
          abortSignal: context.signal,
        }),
      );
      const source = (await engineCall(`container ${ref}`, socketPath, () =>
        created.start({ hijack: true, stdin: false, abortSignal: context.signal }),
      )) as Readable;
      const stdout = createCapture(EXEC_CAPTURE_BYTES);
      const stderr = createCapture(EXEC_CAPTURE_BYTES);
      const sink: StreamSink = async (stream, data) => {
        (stream === "stderr" ? stderr : stdout).add(data);
        await context.output(stream, data);
      };
      try {
        await pumpUntilDone(source, false, sink, context.signal);
      } catch (error) {
        // Docker has no "kill exec": a cancelled or timed-out exec would go on running in the
        // container. The agent runs on the host, so it ends the process by its host pid.
        if (context.signal.aborted) await endExecProcess(created, ref, socketPath);
        throw error;
      }
      const exitCode = await exitCodeOf(created, ref, socketPath, context.signal);
      return {
        exitCode,
        stdout: stdout.bytes(),
        stderr: stderr.bytes(),
        truncated: stdout.truncated || stderr.truncated,
      };
    },
  });

  return [logs, exec] as CommandHandler[];
}

/** GET /containers/{id}/logs as a stream, whether or not it follows. */
function logStream(
  deps: DockerDeps,
  id: string,
  options: {
    follow: boolean;
    stdout: boolean;
    stderr: boolean;
    tail: number | undefined;
    since: number | undefined;
    timestamps: boolean;
    signal: AbortSignal;
  },
): Promise<Readable> {
  const { signal, ...query } = options;
  return new Promise((resolve, reject) =>
    deps.docker.modem.dial(
      {
        path: `/containers/${encodeURIComponent(id)}/logs?`,
        method: "GET",
        isStream: true,
        abortSignal: signal,
        statusCodes: { 200: true, 404: "no such container", 500: "server error" },
        options: query,
      },
      (error, result) => (error ? reject(error) : resolve(result as Readable)),
    ),
  );
}

/** SIGTERM to an exec's process (host pid from Docker), SIGKILL if it is still there after 2 s. */
async function endExecProcess(
  exec: { inspect(): Promise<{ Running: boolean; Pid: number }> },
  ref: string,
  socketPath: string,
): Promise<void> {
  const alive = async () => {
    const state = await engineCall(`container ${ref}`, socketPath, () => exec.inspect()).catch(
      () => undefined,
    );
    return state?.Running && state.Pid > 0 ? state.Pid : undefined;
  };
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    const pid = await alive();
    if (pid === undefined) return;
    try {
      process.kill(pid, signal);
    } catch {
      return; // gone already, or not ours to signal
    }
    for (let waited = 0; waited < 2_000 && (await alive()) !== undefined; waited += 100) await sleep(100);
  }
}

/** The exit status, once Docker has recorded it (it may lag the end of the output by a moment). */
async function exitCodeOf(
  exec: {
    inspect(options?: { abortSignal?: AbortSignal }): Promise<{ Running: boolean; ExitCode: number | null }>;
  },
  ref: string,
  socketPath: string,
  signal: AbortSignal,
): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const state = await engineCall(`container ${ref}`, socketPath, () =>
      exec.inspect({ abortSignal: signal }),
    );
    if (!state.Running && state.ExitCode !== null) return state.ExitCode;
    await sleep(100, undefined, { signal });
  }
  throw new CommandError(
    "docker_error",
    `The process in container ${ref} closed its output but Docker reports no exit status after 5 s; check the container.`,
  );
}
