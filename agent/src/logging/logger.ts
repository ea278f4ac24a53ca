import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export type { Logger };

/** The agent's root logger; systemd's journal adds the time, but JSON lines keep theirs for shipping. */
export function createLogger(
  level: LoggerOptions["level"],
  destination: DestinationStream = pino.destination(1),
): Logger {
  return pino(
    { level, base: { service: "ocore-agent" }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
}
