import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export type { Logger };

/**
 * The server's root logger. Per-request, per-agent and per-job loggers are children of it
 * (`logger.child({ serverId })`) so every line carries its identity fields.
 */
export function createLogger(
  level: LoggerOptions["level"],
  destination: DestinationStream = pino.destination(1),
): Logger {
  return pino(
    {
      level,
      base: { service: "ocore-server" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ["*.password", "*.passphrase", "*.token", "*.secret", "*.privateKey"],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
