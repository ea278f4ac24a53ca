import type ssh2 from "ssh2";
import { AppError } from "../../platform/errors/app-error.js";
import type { ConnectionState, Upstream } from "./connection-state.js";
import { pickServer } from "./picker.js";
import { type StartedSession, startSession } from "./session-start.js";

/** Terminal sizes beyond this are clamped (a client cannot make the host allocate a huge pty). */
export const MAX_COLS = 1000;
export const MAX_ROWS = 500;

interface Pty {
  term: string;
  cols: number;
  rows: number;
  width: number;
  height: number;
  modes: ssh2.TerminalModes;
}

export const clampSize = (value: number, max: number, fallback: number) =>
  Number.isInteger(value) && value > 0 ? Math.min(value, max) : fallback;
const clamp = clampSize;

/** Serves one session channel: pty, shell / exec / sftp, resizes and signals, relayed to the host. */
export function handleSession(state: ConnectionState, session: ssh2.Session): void {
  let pty: Pty | undefined;
  let up: ssh2.ClientChannel | undefined;
  let started: StartedSession | undefined;

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
    started?.resize(cols, rows, info.width, info.height);
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
    started = await startSession(state, down, {
      kind,
      command,
      size: () => ({ cols: pty?.cols ?? 80, rows: pty?.rows ?? 24 }),
      open: async (upstream) => {
        up = await open(upstream);
        return up;
      },
      before:
        kind === "shell" && state.identity && !("error" in state.target) && !state.target.server
          ? () => pickServer(state, down)
          : undefined,
    });
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

export function promised<T>(call: (done: (error: Error | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    call((error, value) =>
      error
        ? reject(new AppError("unavailable", `the host refused the channel: ${error.message}`))
        : resolve(value),
    ),
  );
}
