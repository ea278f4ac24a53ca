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
 * Relays one session channel to its upstream channel, both ways with back-pressure (pipe),
 * stderr too; the exit status (or signal) is passed on when the upstream channel closes.
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
  up.on("data", (chunk: Buffer) => {
    meter.bytesOut += chunk.length;
    meter.touch();
    recorder?.output(chunk);
  });
  up.stderr.on("data", (chunk: Buffer) => {
    meter.bytesOut += chunk.length;
    meter.touch();
    recorder?.output(chunk);
    down.stderr.write(chunk);
  });
  down.pipe(up);
  up.pipe(down, { end: false });
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
  up.on("close", finish);
  down.on("close", () => {
    up.close();
    if (!closed) {
      closed = true;
      onClose(exit.code ?? null);
    }
  });
}
