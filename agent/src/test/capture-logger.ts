import { pino } from "pino";
import type { Logger } from "../logging/logger.js";

/** A real pino logger whose lines land in an array the test can read. */
export function createCaptureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: "debug" },
    {
      write(chunk: string) {
        lines.push(JSON.parse(chunk) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines };
}
