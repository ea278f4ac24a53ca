import { writeSync } from "node:fs";
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import pinoPretty from "pino-pretty";

export type { Logger };

/**
 * The server's root logger. Per-request, per-agent and per-job loggers are children of it
 * (`logger.child({ serverId })`) so every line carries its identity fields.
 */
export function createLogger(
  level: LoggerOptions["level"],
  destination: DestinationStream = logDestination(),
): Logger {
  const root = pino(
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
  roots.add(root);
  return root;
}

const roots = new WeakSet<Logger>();

/** The root logger a child was made from (pino children inherit from their parent's object). */
function rootOf(logger: Logger): Logger | undefined {
  for (let candidate: Logger | null = logger; candidate; candidate = Object.getPrototypeOf(candidate)) {
    if (roots.has(candidate)) return candidate;
  }
  return undefined;
}

/**
 * A child logger with `bindings` set: keys the logger already binds are replaced, not repeated
 * (pino's `child` appends, so `child({ component })` of a component's logger wrote the key twice).
 * The new logger derives from the root with the merged bindings, at the given logger's level.
 */
export function bindLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  const own = logger.bindings();
  if (!Object.keys(bindings).some((key) => key in own)) return logger.child(bindings);
  const root = rootOf(logger);
  if (!root) return logger.child(bindings);
  const fromRoot = new Set(Object.keys(root.bindings()));
  const inherited = Object.fromEntries(
    Object.entries(own).filter(([key]) => !fromRoot.has(key) && !(key in bindings)),
  );
  return root.child({ ...inherited, ...bindings }, { level: logger.level });
}

/** The logger of one part of the process: `component` names it, once, whatever `logger` bound. */
export function componentLogger(
  logger: Logger,
  component: string,
  bindings: Record<string, unknown> = {},
): Logger {
  return bindLogger(logger, { ...bindings, component });
}

/**
 * Where the log goes: lines a person reads when stdout is a terminal, JSON lines otherwise
 * (journald, files, log shipping). The terminal form is pino-pretty's formatter written with a
 * synchronous write: no transport, no worker thread (which the agent's single executable could
 * not start), and no line lost when the process exits right after logging.
 */
export function logDestination(
  stdout: { readonly isTTY?: boolean; readonly fd: number } = process.stdout,
): DestinationStream {
  if (!stdout.isTTY) return pino.destination(stdout.fd);
  const prettify = pinoPretty.prettyFactory({
    colorize: pinoPretty.isColorSupported,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname,service",
  });
  return {
    write(line: string) {
      writeSync(stdout.fd, prettify(line));
    },
  };
}
