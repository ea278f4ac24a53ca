import type ssh2 from "ssh2";
import type { SessionRecorder } from "../../domain/ssh-sessions/session-recorder.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { ConnectionState, Upstream } from "./connection-state.js";
import { pickServer } from "./picker.js";
import { relayChannel } from "./session-relay.js";

/** Terminal sizes beyond this are clamped (a client cannot make the host allocate a huge pty). */
const MAX_COLS = 1000;
const MAX_ROWS = 500;

interface Pty {
  term: string;
  cols: number;
  rows: number;
  width: number;
  height: number;
  modes: ssh2.TerminalModes;
}

const clamp = (value: number, max: number, fallback: number) =>
  Number.isInteger(value) && value > 0 ? Math.min(value, max) : fallback;

/** Serves one session channel: pty, shell / exec / sftp, resizes and signals, relayed to the host. */
export function handleSession(state: ConnectionState, session: ssh2.Session): void {
  let pty: Pty | undefined;
  let up: ssh2.ClientChannel | undefined;
  let recorder: SessionRecorder | undefined;

  session.on("pty", (accept, _reject, info) => {
    pty = {
      term: info.term || "xterm",
      cols: clamp(info.cols, MAX_COLS, 80),
      rows: clamp(info.rows, MAX_ROWS, 24),
      width: info.width,
      height: info.height,
      modes: info.modes,
    };
    accept?.();
  });
  session.on("window-change", (accept, _reject, info) => {
    const cols = clamp(info.cols, MAX_COLS, 80);
    const rows = clamp(info.rows, MAX_ROWS, 24);
    if (pty) Object.assign(pty, { cols, rows, width: info.width, height: info.height });
    up?.setWindow(rows, cols, info.height, info.width);
    recorder?.resize(cols, rows);
    accept?.();
  });
  session.on("signal", (accept, _reject, info) => {
    up?.signal(info.name);
    accept?.();
  });
  // Agent and X11 forwarding are refused: the gateway never exposes the user's agent to a host.
  session.on("auth-agent", (_accept, reject) => reject?.());
  session.on("x11", (_accept, reject) => reject?.());
  session.on("env", (_accept, reject) => reject?.());

  const start = async (
    down: ssh2.ServerChannel,
    kind: "shell" | "exec" | "sftp",
    open: (upstream: Upstream) => Promise<ssh2.ClientChannel>,
    command?: string,
  ) => {
    const notice = (message: string) => {
      down.stderr.write(`\r\noCore: ${message}\r\n`);
    };
    state.notices.add(notice);
    down.on("close", () => state.notices.delete(notice));
    try {
      if (kind === "shell" && state.identity && !("error" in state.target) && !state.target.server) {
        const picked = await pickServer(state, down);
        if (!picked) {
          down.exit(1);
          down.end();
          return;
        }
      }
      const upstream = await state.upstream();
      up = await open(upstream);
      const recording = state.deps.recording;
      if (recording && state.identity) {
        recorder = await recording.start(state.deps.db, {
          userId: state.identity.recordAs,
          serverId: upstream.server.id,
          login: upstream.login,
          kind,
          command,
          cols: pty?.cols ?? 80,
          rows: pty?.rows ?? 24,
          clientAddress: state.clientAddress,
        });
        recorder.onFailure((failure) => {
          notice(failure.message);
          up?.close();
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
      // sftp is a binary protocol: its session row and byte counts are kept, not its stream
      // (nothing to replay or search, and a large download would hit the recording's size limit).
      relayChannel(down, up, state.meter, kind === "sftp" ? undefined : recorder, (exitStatus) => {
        state.lastExitStatus = exitStatus;
        unregister?.();
        recorder
          ?.end({
            exitStatus,
            reason: exitStatus === null ? "closed" : "exit",
            bytesIn: state.meter.bytesIn - channelIn,
            bytesOut: state.meter.bytesOut - channelOut,
          })
          .catch((error: unknown) => state.deps.logger.error({ err: error }, "could not finish a recording"));
      });
    } catch (error) {
      const message =
        error instanceof AppError ? error.message : "internal error; the server log has the details";
      if (!(error instanceof AppError)) state.deps.logger.error({ err: error }, "SSH session failed");
      notice(message);
      up?.close();
      down.exit(255);
      down.end();
    }
  };

  session.on("shell", (accept) => {
    const down = accept();
    void start(down, "shell", (upstream) =>
      promised<ssh2.ClientChannel>((done) =>
        pty
          ? upstream.client.shell(
              {
                term: pty.term,
                cols: pty.cols,
                rows: pty.rows,
                width: pty.width,
                height: pty.height,
                modes: pty.modes,
              },
              done,
            )
          : upstream.client.shell(false, done),
      ),
    );
  });
  session.on("exec", (accept, _reject, info) => {
    const down = accept();
    void start(
      down,
      "exec",
      (upstream) =>
        promised<ssh2.ClientChannel>((done) =>
          upstream.client.exec(
            info.command,
            pty
              ? {
                  pty: {
                    term: pty.term,
                    cols: pty.cols,
                    rows: pty.rows,
                    width: pty.width,
                    height: pty.height,
                    modes: pty.modes,
                  },
                }
              : {},
            done,
          ),
        ),
      info.command,
    );
  });
  session.on("subsystem", (accept, reject, info) => {
    if (info.name !== "sftp") return reject?.();
    const down = accept();
    void start(down, "sftp", (upstream) =>
      promised<ssh2.ClientChannel>((done) => upstream.client.subsys("sftp", done)),
    );
  });
}

function promised<T>(call: (done: (error: Error | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    call((error, value) =>
      error
        ? reject(new AppError("unavailable", `the host refused the channel: ${error.message}`))
        : resolve(value),
    ),
  );
}
