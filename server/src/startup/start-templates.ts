import { randomUUID } from "node:crypto";
import type { CommandService } from "../domain/commands/command-service.js";
import { createRunDispatcher } from "../domain/runs/run-dispatcher.js";
import type { TemplateDeps } from "../domain/runs/template-deps.js";
import { ensureBuiltinTemplates } from "../domain/templates/builtin-templates.js";
import type { Db } from "../platform/db/database.js";
import { componentLogger, type Logger } from "../platform/logging/logger.js";

/**
 * The command assistant: stores the built-in template library (new versions when it changed),
 * and starts the run dispatcher, which at once takes over runs left by a previous process.
 */
export async function startTemplates(options: {
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly commands: CommandService;
  readonly isLive: (serverId: string) => boolean;
}): Promise<{ readonly deps: TemplateDeps; stop(): Promise<void> }> {
  const { db, now, commands } = options;
  const logger = componentLogger(options.logger, "runs");
  await ensureBuiltinTemplates(db, now());
  const dispatcher = createRunDispatcher({
    db,
    commands,
    logger,
    now,
    replicaId: randomUUID(),
    isLive: options.isLive,
  });
  await dispatcher.tick();
  return { deps: { db, now, commands, dispatcher }, stop: () => dispatcher.close() };
}
