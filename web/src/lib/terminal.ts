/** The console terminal's WebSocket path on the control server (same origin as the console). */
export const TERMINAL_PATH = "/api/terminal";
/** Characters of input per frame: even all escaped (6 bytes each in JSON) it stays under the server's 64 KiB frame. */
export const MAX_INPUT_CHARS = 8 * 1024;
export const MAX_COLS = 1000;
export const MAX_ROWS = 500;

/** What the control server sends as JSON text frames (output comes as binary frames). */
export type TerminalServerMessage =
  | { type: "logins"; logins: string[] }
  | { type: "ready"; server: string; login: string }
  | { type: "notice"; message: string }
  | { type: "exit"; code: number | null };

/** The socket address for a page at `location`: ws: or wss: like the page, CSRF token in the query. */
export function terminalUrl(location: { protocol: string; host: string }, csrf: string): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${TERMINAL_PATH}?csrf=${encodeURIComponent(csrf)}`;
}

/** A server text frame, or undefined when it is not one we know (ignored, never thrown). */
export function parseServerMessage(text: string): TerminalServerMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case "logins":
      return Array.isArray(message.logins) && message.logins.every((login) => typeof login === "string")
        ? { type: "logins", logins: message.logins as string[] }
        : undefined;
    case "ready":
      return typeof message.server === "string" && typeof message.login === "string"
        ? { type: "ready", server: message.server, login: message.login }
        : undefined;
    case "notice":
      return typeof message.message === "string" ? { type: "notice", message: message.message } : undefined;
    case "exit":
      return typeof message.code === "number" || message.code === null
        ? { type: "exit", code: message.code as number | null }
        : undefined;
    default:
      return undefined;
  }
}

const clamp = (value: number, max: number) => Math.min(Math.max(1, Math.floor(value) || 1), max);

/** The first frame: which server, as which login (undefined: the server's default or a choice), and the size. */
export function startFrame(server: string, login: string | undefined, cols: number, rows: number): string {
  return JSON.stringify({
    type: "start",
    server,
    ...(login ? { login } : {}),
    cols: clamp(cols, MAX_COLS),
    rows: clamp(rows, MAX_ROWS),
  });
}

export function resizeFrame(cols: number, rows: number): string {
  return JSON.stringify({ type: "resize", cols: clamp(cols, MAX_COLS), rows: clamp(rows, MAX_ROWS) });
}

/** Input frames: a long paste is cut into pieces the server accepts (never inside a surrogate pair). */
export function inputFrames(data: string): string[] {
  const frames: string[] = [];
  let start = 0;
  while (start < data.length) {
    let end = Math.min(start + MAX_INPUT_CHARS, data.length);
    const last = data.charCodeAt(end - 1);
    if (end < data.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    frames.push(JSON.stringify({ type: "input", data: data.slice(start, end) }));
    start = end;
  }
  return frames;
}

/** Why a socket closed, in words, from its close code and reason (the server puts the cause in the reason). */
export function describeClose(code: number, reason: string): string {
  if (reason) return reason;
  if (code === 1000) return "The session ended.";
  if (code === 1006)
    return "The connection was lost or refused (signed out, or the server is not reachable).";
  if (code === 1009) return "A message was too large for the terminal.";
  return `The connection closed (code ${code}).`;
}

/**
 * The `ssh` command and known_hosts line for the gateway, from SystemService/GetInfo's
 * known_hosts line ("[host]:port key" or "host key") and the user's name.
 */
export function sshConnectHints(
  knownHostsLine: string,
  username: string,
  server: string,
): { host: string; port: number; command: string } | undefined {
  const match = /^(?:\[([^\]]+)\]:(\d+)|(\S+))\s/.exec(knownHostsLine);
  if (!match) return undefined;
  const host = match[1] ?? match[3] ?? "";
  const port = match[2] ? Number(match[2]) : 22;
  const target = `${username || "you"}+${server}@${host}`;
  return { host, port, command: port === 22 ? `ssh ${target}` : `ssh -p ${port} ${target}` };
}
