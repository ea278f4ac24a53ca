import type { Duplex, Writable } from "node:stream";
import type ssh2 from "ssh2";
import type { SessionRecorder } from "../../domain/ssh-sessions/session-recorder.js";

/** Counts bytes and notes activity of one connection (for the audit entry and the idle timer). */
export interface Meter {
  bytesIn: number;
  bytesOut: number;
  touch(): void;
}

/** The client's side of a session: an SSH session channel, or the console terminal's socket. */
export interface DownChannel extends Duplex {
  readonly stderr: Writable;
  exit(status: number): void;
  exit(signalName: string, coreDumped?: boolean, msg?: string): void;
}

/**
 * Relays one session channel to its upstream channel, both ways with back-pressure, stderr too;
 * the exit status (or signal) is passed on when the upstream channel closes. The host's output
 * pauses while the client's channel is full (a client that stops reading stops the host through
 * the SSH windows, instead of the gateway buffering what the host keeps sending) and while the
 * recorder asks for it (so fast output is recorded, not ended for a backlog).
 */
export function relayChannel(
  down: DownChannel,
  up: ssh2.ClientChannel,
  meter: Meter,
  recorder: SessionRecorder | undefined,
  onClose: (exitStatus: number | null) => void,
): void {
  let exit: { code: number | null; signal?: string } = { code: null };
  down.on("data", (chunk: Buffer) => {
    meter.bytesIn += chunk.length;
    meter.touch();
    recorder?.input(chunk);
  });
  down.pipe(up);

  const full = { stdout: false, stderr: false, recorder: false };
  const update = () => {
    if (full.stdout || full.stderr || full.recorder) {
      up.pause();
      up.stderr.pause();
    } else {
      up.resume();
      up.stderr.resume();
    }
  };
  const relayOutput = (target: Writable, which: "stdout" | "stderr") => (chunk: Buffer) => {
    meter.bytesOut += chunk.length;
    meter.touch();
    if (recorder && !recorder.output(chunk)) full.recorder = true;
    if (down.destroyed || target.writableEnded) return; // the client left; the upstream closes
    if (!target.write(chunk) && !full[which]) {
      full[which] = true;
      target.once("drain", () => {
        full[which] = false;
        update();
      });
    }
    update();
  };
  recorder?.onDrain(() => {
    full.recorder = false;
    update();
  });
  up.on("data", relayOutput(down, "stdout"));
  up.stderr.on("data", relayOutput(down.stderr, "stderr"));
  up.on("exit", (code: number | null, signal?: string) => {
    exit = { code, signal: signal ?? undefined };
  });
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    if (exit.code !== null && exit.code !== undefined) down.exit(exit.code);
    else if (exit.signal) down.exit(exit.signal, false, "");
    down.end();
    onClose(exit.code ?? null);
  };
  // ssh2 emits "close" as soon as the host closes the channel, while output may still wait in
  // the readable buffers (paused, or not yet emitted): end the client's side after that output.
  const drained = (stream: NodeJS.ReadableStream & { readableEnded: boolean }) =>
    stream.readableEnded
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          stream.once("end", resolve);
          down.once("close", resolve);
        });
  up.on("close", () => {
    void Promise.all([drained(up), drained(up.stderr)]).then(finish);
  });
  down.on("close", () => {
    up.close();
    if (!closed) {
      closed = true;
      onClose(exit.code ?? null);
    }
  });
}
