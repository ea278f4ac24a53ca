import type ssh2 from "ssh2";
import type { SessionRecorder } from "../../domain/ssh-sessions/session-recorder.js";
import type { SshSessionKind } from "../../platform/db/schema/ssh-sessions.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { ConnectionState, Upstream } from "./connection-state.js";
import { type DownChannel, relayChannel } from "./session-relay.js";

/** A started session: resizes go to the host and into the recording. */
export interface StartedSession {
  resize(cols: number, rows: number, width?: number, height?: number): void;
}

/**
 * Starts one session of a connection, whatever carries it: opens the host (RBAC, limits,
 * tunnel), the channel, the recording and the live-session entry, then relays both ways until
 * either side closes. Any failure is shown to the client and ends the channel (fail closed).
 */
export async function startSession(
  state: ConnectionState,
  down: DownChannel,
  input: {
    kind: SshSessionKind;
    open: (upstream: Upstream) => Promise<ssh2.ClientChannel>;
    command?: string;
    size: () => { cols: number; rows: number };
    /** Runs before the host is opened (the SSH picker); false ends the channel quietly. */
    before?: () => Promise<boolean>;
  },
): Promise<StartedSession | undefined> {
  let up: ssh2.ClientChannel | undefined;
  let recorder: SessionRecorder | undefined;
  const notice = (message: string) => {
    down.stderr.write(`\r\noCore: ${message}\r\n`);
  };
  state.notices.add(notice);
  down.on("close", () => state.notices.delete(notice));
  try {
    if (input.before && !(await input.before())) {
      down.exit(1);
      down.end();
      return undefined;
    }
    const upstream = await state.upstream();
    const openedSize = input.size();
    up = await input.open(upstream);
    const channel = up;
    const recording = state.deps.recording;
    let recordedSize = input.size();
    if (recording && state.identity) {
      recordedSize = input.size();
      const { cols, rows } = recordedSize;
      recorder = await recording.start(state.deps.db, {
        userId: state.identity.recordAs,
        serverId: upstream.server.id,
        login: upstream.login,
        kind: input.kind,
        command: input.command,
        cols,
        rows,
        clientAddress: state.clientAddress,
      });
      recorder.onFailure((failure) => {
        notice(failure.message);
        channel.close();
      });
    }
    const unregister =
      recorder &&
      recording?.live.register({
        sessionId: recorder.sessionId,
        userId: state.identity?.recordAs ?? "",
        serverId: upstream.server.id,
        login: upstream.login,
        startedAt: state.deps.now(),
        terminate: (message) => state.terminate(message),
      });
    const channelIn = state.meter.bytesIn;
    const channelOut = state.meter.bytesOut;
    const started = recorder;
    // sftp is a binary protocol: its session row and byte counts are kept, not its stream
    // (nothing to replay or search, and a large download would hit the recording's size limit).
    relayChannel(down, channel, state.meter, input.kind === "sftp" ? undefined : started, (exitStatus) => {
      state.lastExitStatus = exitStatus;
      unregister?.();
      started
        ?.end({
          exitStatus,
          reason: exitStatus === null ? "closed" : "exit",
          bytesIn: state.meter.bytesIn - channelIn,
          bytesOut: state.meter.bytesOut - channelOut,
        })
        .catch((error: unknown) => state.deps.logger.error({ err: error }, "could not finish a recording"));
    });
    // A resize that arrived while the host's channel or the recording was being opened found no
    // started session to pass it on (with TCP_NODELAY the client's window-change often lands
    // there): the host and the recording get the size as it is now.
    const size = input.size();
    if (size.cols !== openedSize.cols || size.rows !== openedSize.rows)
      channel.setWindow(size.rows, size.cols, 0, 0);
    if (size.cols !== recordedSize.cols || size.rows !== recordedSize.rows)
      started?.resize(size.cols, size.rows);
    return {
      resize(cols, rows, width = 0, height = 0) {
        channel.setWindow(rows, cols, height, width);
        started?.resize(cols, rows);
      },
    };
  } catch (error) {
    const message =
      error instanceof AppError ? error.message : "internal error; the server log has the details";
    if (!(error instanceof AppError)) state.deps.logger.error({ err: error }, "SSH session failed");
    notice(message);
    up?.close();
    down.exit(255);
    down.end();
    return undefined;
  }
}
