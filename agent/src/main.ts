#!/usr/bin/env node
import { usage } from "./cli/usage.js";
import { AgentConfigError, loadAgentConfig } from "./config/config.js";
import { createLogger } from "./logging/logger.js";
import { readAgentVersion } from "./version.js";

// Wiring only: command → configuration → logger → the command's work.
function main(argv: readonly string[]): number {
  const [command = "help"] = argv;
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

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  const line = error instanceof AgentConfigError ? error.message : String(error);
  process.stderr.write(`ocore-agent: ${line}\n`);
  process.exitCode = 1;
}
