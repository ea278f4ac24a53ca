import type { ClientChannel } from "ssh2";
import { SshError } from "./ssh-error.js";

/** What a command run over SSH left behind. */
export interface ExecResult {
  /** The exit status; null when the command died of a signal. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
}

/**
 * Collects a command's output (each stream kept up to maxBytes, the rest counted) and exit
 * status; kills it with SIGKILL and closes the channel when it runs past its limit.
 */
export function collectExec(
  channel: ClientChannel,
  options: { timeoutMs: number; maxBytes: number; stdin?: string | Buffer; name: string },
  connectionClosed: Promise<void>,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const sizes = { stdout: 0, stderr: 0 };
    let truncated = false;
    const keep = (into: Buffer[], which: "stdout" | "stderr") => (chunk: Buffer) => {
      const room = options.maxBytes - sizes[which];
      if (room > 0) into.push(chunk.subarray(0, room));
      if (chunk.length > room) truncated = true;
      sizes[which] += chunk.length;
    };
    channel.on("data", keep(stdout, "stdout"));
    channel.stderr.on("data", keep(stderr, "stderr"));
    let exitCode: number | null = null;
    let signal: string | null = null;
    channel.on("exit", (code: number | null, signalName?: string) => {
      exitCode = code;
      signal = signalName ?? null;
    });
    let finished = false;
    const timer = setTimeout(() => {
      if (finished) return;
      finished = true;
      channel.signal("KILL");
      channel.close();
      reject(
        new SshError(
          "command_timeout",
          `${options.name} did not finish within ${Math.round(options.timeoutMs / 1000)} s (timeout)`,
        ),
      );
    }, options.timeoutMs);
    connectionClosed.then(() => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      reject(new SshError("connection_lost", `the SSH connection closed while ${options.name} was running`));
    });
    channel.on("close", () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        truncated,
      });
    });
    if (options.stdin !== undefined) channel.end(options.stdin);
    else channel.end();
  });
}

export function withTimeout<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(error()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
