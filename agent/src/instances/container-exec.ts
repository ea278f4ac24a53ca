import { once } from "node:events";
import type { Duplex } from "node:stream";
import { CommandError } from "../commands/command-handler.js";
import type { DockerDeps } from "../docker/docker-deps.js";
import { engineCall } from "../docker/docker-errors.js";
import { createCapture, destroyOnAbort, pumpDockerStream } from "../docker/docker-streams.js";

const STDERR_KEPT_BYTES = 4096;

export interface ExecResult {
  readonly exitCode: number;
  /** The first few KiB of standard error, for the error message. */
  readonly stderr: string;
}

/**
 * Runs `argv` in a running container without a TTY: `stdin` (if any) is streamed to the
 * process and closed at its end, standard output goes to `onStdout` (awaited: backpressure),
 * standard error is kept for the message. Resolves with the exit code.
 */
export async function execInContainer(
  deps: DockerDeps,
  containerId: string,
  argv: readonly string[],
  options: {
    readonly stdin?: AsyncIterable<Uint8Array>;
    readonly onStdout: (data: Uint8Array) => Promise<void>;
    readonly signal: AbortSignal;
  },
): Promise<ExecResult> {
  if (argv.length === 0 || !argv[0])
    throw new CommandError("invalid_argument", "the command to run is empty");
  const container = deps.docker.getContainer(containerId);
  const what = `command ${argv[0]} in container ${containerId.slice(0, 12)}`;
  const exec = await engineCall(what, deps.socketPath, () =>
    container.exec({
      Cmd: [...argv],
      AttachStdin: options.stdin !== undefined,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      abortSignal: options.signal,
    }),
  );
  const stream = (await engineCall(what, deps.socketPath, () =>
    exec.start({ hijack: true, stdin: options.stdin !== undefined, Tty: false }),
  )) as Duplex;
  const stopListening = destroyOnAbort(stream, options.signal);
  const stderr = createCapture(STDERR_KEPT_BYTES);
  try {
    const feeding = options.stdin ? feed(stream, options.stdin) : Promise.resolve();
    await Promise.all([
      feeding,
      pumpDockerStream(stream, false, async (kind, data) => {
        if (kind === "stderr") stderr.add(data);
        else await options.onStdout(data);
      }),
    ]);
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason ?? error;
    throw error;
  } finally {
    stopListening();
  }
  const info = await engineCall(what, deps.socketPath, () => exec.inspect());
  return { exitCode: info.ExitCode ?? -1, stderr: Buffer.from(stderr.bytes()).toString("utf8").trim() };
}

/** Writes `source` into the exec's stdin, then half-closes it (the process sees end of input). */
async function feed(stream: Duplex, source: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of source) {
    if (!stream.write(chunk)) await once(stream, "drain");
  }
  stream.end();
}
