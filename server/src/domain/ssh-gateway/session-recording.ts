import type { Db } from "../../platform/db/database.js";

/**
 * The recorder of one gateway session (domain/ssh-sessions/ implements it): asciicast output,
 * input and resizes as they happen. A failing recorder calls its onFailure callbacks, and the
 * gateway ends the session (fail closed).
 */
export interface SessionRecorder {
  readonly sessionId: string;
  output(bytes: Uint8Array): void;
  input(bytes: Uint8Array): void;
  resize(cols: number, rows: number): void;
  onFailure(callback: (error: Error) => void): void;
  end(summary: {
    exitStatus: number | null;
    reason: string;
    bytesIn: number;
    bytesOut: number;
  }): Promise<void>;
}

export interface RecordingStart {
  readonly userId: string;
  readonly serverId: string;
  readonly login: string;
  readonly kind: "shell" | "exec" | "sftp";
  readonly command?: string;
  readonly cols: number;
  readonly rows: number;
  readonly clientAddress: string;
}

export type StartSessionRecording = (db: Db, input: RecordingStart) => Promise<SessionRecorder>;

/** The live sessions admins see and may end (domain/ssh-sessions/ keeps them). */
export interface LiveSessionRegistry {
  register(session: {
    sessionId: string;
    userId: string;
    serverId: string;
    login: string;
    startedAt: Date;
    terminate(message: string): void;
  }): () => void;
}
