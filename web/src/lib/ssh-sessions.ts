/** Pure helpers of the Sessions pages (tested in ssh-sessions.test.ts). */

const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB"] as const;

/** 1536n → "1.5 KB"; whole bytes below a kilobyte. */
export function formatBytes(value: bigint | number): string {
  let amount = Number(value);
  let unit = 0;
  while (amount >= 1024 && unit < BYTE_UNITS.length - 1) {
    amount /= 1024;
    unit += 1;
  }
  return unit === 0
    ? `${amount} B`
    : `${amount < 10 ? amount.toFixed(1) : Math.round(amount)} ${BYTE_UNITS[unit]}`;
}

/** 3_725_000 ms → "1 h 2 min"; under a minute in seconds. */
export function formatElapsed(milliseconds: bigint | number): string {
  const seconds = Math.floor(Number(milliseconds) / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export interface SessionOutcome {
  readonly live: boolean;
  readonly endReason: string;
  readonly exitStatus?: number;
  readonly recordingTruncated: boolean;
}

/** How a session ended, in a few words: "live", "exit 0", "ended by an admin", "interrupted"… */
export function describeOutcome(session: SessionOutcome): string {
  if (session.live) return "live";
  const reason = session.endReason.split(":")[0] ?? "";
  const words: Record<string, string> = {
    exit: session.exitStatus === undefined ? "exited" : `exit ${session.exitStatus}`,
    terminated: "ended by an admin",
    interrupted: "interrupted (server stopped)",
    recording_limit: "recording limit reached",
    recording_failed: "recording failed",
    client_closed: "closed by the client",
  };
  const described = words[reason] ?? (reason ? reason.replaceAll("_", " ") : "open");
  return session.recordingTruncated && reason !== "recording_limit"
    ? `${described} · recording truncated`
    : described;
}

/** The search box's value is sent once it is 3-200 characters (the API's bounds). */
export function searchable(query: string): boolean {
  const trimmed = query.trim();
  return trimmed.length >= 3 && trimmed.length <= 200;
}
