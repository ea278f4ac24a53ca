import { z } from "zod";
import { LOGIN } from "../../domain/ssh-gateway/ssh-target.js";

/** The console terminal's WebSocket path (same port as the API and the console). */
export const TERMINAL_PATH = "/api/terminal";
/** The largest frame a client may send (input is typed or pasted text; a paste may be long). */
export const MAX_CLIENT_FRAME_BYTES = 64 * 1024;
/** Terminal sizes the terminal accepts (the SSH gateway clamps to the same). */
export const MAX_COLS = 1000;
export const MAX_ROWS = 500;

const size = {
  cols: z.number().int().min(1).max(MAX_COLS),
  rows: z.number().int().min(1).max(MAX_ROWS),
};

/**
 * What the browser sends, one JSON object per text frame: `start` once (again after a `logins`
 * answer), then `input` and `resize`.
 */
export const clientMessage = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("start"),
    /** The server's id or name. */
    server: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "a server name or id"),
    login: z.string().regex(LOGIN, "a host login name").optional(),
    ...size,
  }),
  z.strictObject({
    type: z.literal("input"),
    data: z
      .string()
      .min(1)
      .max(MAX_CLIENT_FRAME_BYTES / 2),
  }),
  z.strictObject({ type: z.literal("resize"), ...size }),
]);
export type ClientMessage = z.infer<typeof clientMessage>;

/** What the server sends as JSON text frames; the terminal's output travels as binary frames. */
export type ServerMessage =
  | { type: "logins"; logins: string[] }
  | { type: "ready"; server: string; login: string }
  | { type: "notice"; message: string }
  | { type: "exit"; code: number | null };

/** Parses one client frame, or says what is wrong with it (for the client and the log). */
export function parseClientMessage(
  data: Buffer | string,
  isBinary: boolean,
): { message: ClientMessage } | { error: string } {
  if (isBinary) return { error: "binary frames are not accepted; send JSON text frames" };
  let json: unknown;
  try {
    json = JSON.parse(typeof data === "string" ? data : data.toString("utf8"));
  } catch {
    return { error: "a frame is not JSON" };
  }
  const parsed = clientMessage.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { error: `bad message: ${issue?.path.join(".") || "type"}: ${issue?.message ?? "invalid"}` };
  }
  return { message: parsed.data };
}

/**
 * True when a WebSocket handshake comes from the console's own page: its Origin is the origin
 * the request was sent to (Host), or the configured public URL's. Browsers always send Origin
 * on WebSocket handshakes and the cookie rides along on any site's request, so this is the
 * check against cross-site WebSocket hijacking (the CSRF token in the URL is the second).
 */
export function isSameOrigin(
  origin: string | undefined,
  host: string | undefined,
  publicUrl: string | undefined,
): boolean {
  if (!origin || !host) return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (parsed.origin === "null") return false;
  if (publicUrl && parsed.origin === new URL(publicUrl).origin) return true;
  return parsed.host === host.toLowerCase() && (parsed.protocol === "http:" || parsed.protocol === "https:");
}
