#!/usr/bin/env node
import { runEnrollCommand } from "./cli/enroll-command.js";
import { UsageError } from "./cli/parse-flags.js";
import { usage } from "./cli/usage.js";
import { AgentConfigError, loadAgentConfig } from "./config/config.js";
import { EnrollmentError } from "./enrollment/enrollment-error.js";
import { NotEnrolledError } from "./identity/identity-store.js";
import { createLogger } from "./logging/logger.js";
import { startAgent } from "./run/run-agent.js";
import { startUpgradeGuard } from "./self-update/upgrade-guard.js";
import { readAgentVersion } from "./version.js";

// Wiring only: command → configuration → logger → the command's work.
async function main(argv: readonly string[]): Promise<number> {
  const [command = "help", ...args] = argv;
  switch (command) {
    case "version":
      process.stdout.write(`${readAgentVersion()}\n`);
      return 0;
    case "check-config": {
      const config = loadAgentConfig(process.env);
      const logger = createLogger(config.logLevel);
      logger.info({ version: readAgentVersion(), config }, "configuration is valid");
      return 0;
    }
    case "enroll":
      return runEnrollCommand(args, loadAgentConfig(process.env), readAgentVersion());
    case "run": {
      const config = loadAgentConfig(process.env);
      const logger = createLogger(config.logLevel);
      const version = readAgentVersion();
      logger.info({ version, config }, "starting");
      // After a self-upgrade, the first Welcome confirms the new executable (else it rolls back).
      const upgrade = await startUpgradeGuard({ logger, version });
      const agent = await startAgent({
        config,
        logger,
        agentVersion: version,
        link: { onWelcome: () => upgrade.onWelcome() },
      });
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once("SIGTERM", () => resolve("SIGTERM"));
        process.once("SIGINT", () => resolve("SIGINT"));
      });
      logger.info({ signal }, "stopping");
      upgrade.stop();
      await agent.stop();
      logger.info({ spooled: agent.spool.size }, "stopped");
      return 0;
    }
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage);
      return 0;
    default:
      process.stderr.write(`ocore-agent: unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

/** Errors the operator can act on print one line; anything else also prints its stack. */
const actionable = (error: unknown): error is Error =>
  error instanceof AgentConfigError ||
  error instanceof EnrollmentError ||
  error instanceof NotEnrolledError ||
  error instanceof UsageError;

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const line = actionable(error) ? error.message : error instanceof Error ? error.stack : String(error);
    process.stderr.write(`ocore-agent: ${line}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
