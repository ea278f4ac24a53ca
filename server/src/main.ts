#!/usr/bin/env node
import { loadConfig, sanitizeConfig } from "./platform/config/config.js";
import { ConfigError } from "./platform/config/config-error.js";
import { surviveClosedOutput } from "./platform/logging/closed-output.js";
import { createLogger } from "./platform/logging/logger.js";
import { showFirstAdminPassword } from "./startup/first-admin-notice.js";
import { startServer } from "./startup/start-server.js";
import { readServerVersion } from "./version.js";

/** How long a stop on SIGTERM/SIGINT may take before the process exits anyway (status 1). */
const SHUTDOWN_BOUND_MS = 15_000;

// Wiring only: configuration → logger → start every part → report → stop on a signal.
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.log.level);
  // The log goes to stdout, the banner and notes to stderr: a reader of either that goes away
  // must not stop the server. Say so on the one that still works.
  surviveClosedOutput((name, error) => {
    const message = `${name} is closed (${(error as NodeJS.ErrnoException).code ?? error.message}): what the server writes there is dropped; it keeps serving`;
    if (name === "stderr") logger.warn({ stream: name }, message);
    else process.stderr.write(`ocore-server: ${message}\n`);
  });
  const version = readServerVersion();
  logger.info({ version, config: sanitizeConfig(config) }, "starting oCore server");

  const server = await startServer({ config, logger, version });
  logger.info({ url: server.url }, "oCore is ready");
  if (server.firstAdmin) {
    showFirstAdminPassword({
      firstAdmin: server.firstAdmin,
      dataDir: config.dataDir,
      terminal: process.stderr,
      logger,
    });
  }
  process.stderr.write(`\noCore ${version} is running: open ${server.url}\n\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    setTimeout(() => {
      logger.error({ signal, boundMs: SHUTDOWN_BOUND_MS }, "stopping took too long; exiting anyway");
      process.exit(1);
    }, SHUTDOWN_BOUND_MS).unref();
    server.close().then(
      () => {
        logger.info({ signal }, "stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  const line =
    error instanceof ConfigError
      ? `ocore-server: cannot start: ${error.message}`
      : `ocore-server: cannot start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  process.stderr.write(`${line}\n`);
  process.exit(1);
});
