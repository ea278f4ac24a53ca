import type { SshSessionKind } from "../../platform/db/schema/ssh-sessions.js";
import type { Logger } from "../../platform/logging/logger.js";

/** The session recorder's types (session-recorder.ts has the recorder itself). */

export interface SessionStart {
  readonly userId: string;
  readonly serverId: string;
  readonly login: string;
  readonly kind: SshSessionKind;
  readonly command?: string;
  readonly cols: number;
  readonly rows: number;
  readonly clientAddress: string;
}

/** How recordings are kept (config.sshRecordings), and the recorder's pace (tests shorten it). */
export interface RecordingSettings {
  readonly recordInput: boolean;
  /** Largest recording, in bytes of event lines; reaching it ends the session. */
  readonly maxBytes: number;
  /** Pending events are written at least this often (the most a crash can lose). */
  readonly flushEveryMs?: number;
  /** A chunk is written as soon as this many bytes are pending. */
  readonly chunkBytes?: number;
  /**
   * Most bytes of events one write (one transaction) takes: while a write is in flight, what
   * arrives meanwhile is written next, as several chunks in one transaction (group commit).
   */
  readonly batchBytes?: number;
  /** Pending bytes allowed while a write is slow; beyond, the session is ended (bounded memory). */
  readonly maxBacklogBytes?: number;
  /** With nothing to write, the session row is still touched this often (liveness, end requests). */
  readonly heartbeatMs?: number;
  readonly logger?: Logger;
}

export type RecordingFailureReason = "write_failed" | "size_limit" | "backlog" | "end_requested";

/**
 * Why the session must end now; `message` is for the user's terminal. An Error, so a gateway
 * that takes `(error: Error) => void` callbacks gets it as one.
 */
export class RecordingFailure extends Error {
  constructor(
    readonly reason: RecordingFailureReason,
    message: string,
  ) {
    super(message);
    this.name = "RecordingFailure";
  }
}

export interface SessionEnd {
  readonly exitStatus?: number | null;
  /** Why it ended, e.g. "exit", "client_closed", "terminated", "recording_failed". */
  readonly reason: string;
  /** Totals of the session; default: what the recorder itself was given. */
  readonly bytesIn?: number;
  readonly bytesOut?: number;
}

export interface SessionRecorder {
  readonly sessionId: string;
  /** What the host sent to the terminal. */
  /**
   * Returns false once more than two writes' worth of events (2 × `batchBytes`, at most half of
   * `maxBacklogBytes`) wait: the caller
   * should stop reading from the host (its SSH window then holds the host back) until `onDrain`.
   * Ignored, the backlog grows to `maxBacklogBytes` and the session is ended.
   */
  output(bytes: Uint8Array): boolean;
  /** Called each time the backlog fell back under one batch after `output` returned false. */
  onDrain(callback: () => void): void;
  /** What the user typed; stored only when input recording is on (counted always). */
  input(bytes: Uint8Array): void;
  resize(cols: number, rows: number): void;
  /**
   * Called once when the session must end: the recording cannot be written or kept up, its size
   * limit is reached, or an administrator ended it from another replica. Fail closed: the
   * gateway ends the session and shows `message`.
   */
  onFailure(callback: (failure: RecordingFailure) => void): void;
  /**
   * Writes what is pending and closes the session row. Safe to call twice; never rejects (a
   * failed last write is logged, and the sweep closes the row as interrupted).
   */
  end(outcome: SessionEnd): Promise<void>;
}
