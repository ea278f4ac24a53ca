/**
 * The asciicast v2 format (https://docs.asciinema.org/manual/asciicast/v2/): a header line, a
 * JSON object, then one JSON array per line, [seconds since start, code, data]: "o" for what the
 * terminal printed, "i" for what was typed, "r" for a resize ("COLSxROWS").
 */
export type EventCode = "o" | "i" | "r";

export interface CastHeader {
  readonly cols: number;
  readonly rows: number;
  readonly startedAt: Date;
  readonly title?: string;
  readonly command?: string | null;
}

export function castHeaderLine(header: CastHeader): string {
  return `${JSON.stringify({
    version: 2,
    width: header.cols,
    height: header.rows,
    timestamp: Math.floor(header.startedAt.getTime() / 1000),
    ...(header.command ? { command: header.command } : {}),
    ...(header.title ? { title: header.title } : {}),
    env: { TERM: "xterm-256color" },
  })}\n`;
}

/** One event line, "\n" included; the time with microseconds, as asciinema writes it. */
export function castEventLine(seconds: number, code: EventCode, data: string): string {
  return `[${Math.max(0, seconds).toFixed(6)}, "${code}", ${JSON.stringify(data)}]\n`;
}

/** The MIME type asciinema's server uses for .cast files. */
export const CAST_CONTENT_TYPE = "application/x-asciicast";
