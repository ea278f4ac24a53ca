export type OutputName = "stdout" | "stderr";

/**
 * Keeps the process alive and idle when whoever reads its stdout or stderr goes away (a
 * supervisor that dies, `| head`). A write to a closed pipe fails with EPIPE, and an 'error'
 * event on process.stdout/stderr that nobody listens to is an uncaught exception: the process
 * dies without a word, or, when an uncaughtException handler logs it to that same stream (as
 * Next.js's does), fails again on every attempt and spins at full CPU.
 *
 * With a listener, the stream is destroyed on its first error and later writes to it are dropped
 * quietly. `onClosed` is told once per stream, to say so where output still works.
 */
export function surviveClosedOutput(
  onClosed: (name: OutputName, error: Error) => void,
  streams: Readonly<Record<OutputName, NodeJS.WritableStream>> = {
    stdout: process.stdout,
    stderr: process.stderr,
  },
): void {
  for (const name of ["stdout", "stderr"] as const) {
    let closed = false;
    streams[name].on("error", (error: Error) => {
      if (closed) return;
      closed = true;
      onClosed(name, error);
    });
  }
}
