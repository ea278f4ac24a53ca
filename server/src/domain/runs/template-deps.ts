import type { Db } from "../../platform/db/database.js";
import type { CommandService } from "../commands/command-service.js";
import type { RunDispatcher } from "./run-dispatcher.js";

/** What the template and run use cases need beyond the database. */
export interface TemplateDeps {
  readonly db: Db;
  readonly now: () => Date;
  readonly commands: CommandService;
  readonly dispatcher: RunDispatcher;
}
