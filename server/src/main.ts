#!/usr/bin/env node
import { loadConfig, sanitizeConfig } from "./config/config.js";
import { ConfigError } from "./config/config-error.js";
import { createLogger } from "./logging/logger.js";
import { startServer } from "./startup/start-server.js";
import { readServerVersion } from "./version.js";

// Wiring only: configuration → logger → start every part → report → stop on a signal.
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.log.level);
  const version = readServerVersion();
  logger.info({ version, config: sanitizeConfig(config) }, "starting oCore server");

  const server = await startServer({ config, logger, version });
  logger.info({ url: server.url }, "oCore is ready");
  if (server.firstAdmin) {
    process.stderr.write(
      `First start: sign in as "${server.firstAdmin.username}" with the one-time password ${server.firstAdmin.password}\n` +
        "You will be asked to choose a new password. This password is shown only once.\n\n",
    );
  }
  process.stderr.write(`\noCore ${version} is running: open ${server.url}\n\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    server.close().then(
      () => process.exit(0),
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
