import type { DescMessage } from "@bufbuild/protobuf";
import type { Db } from "../../platform/db/database.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { AuditContext } from "../audit/audit-context.js";
import type { CommandDelivery } from "./command-delivery.js";
import type { CommandFeed } from "./command-feed.js";
import type { CommandJournal } from "./command-journal.js";
import type { CommandNudges } from "./command-nudges.js";
import type { CommandRow, FinalState } from "./command-records.js";
import type { CommandActor, CommandRunner, SubmitCommand } from "./command-runner.js";
import type { CommandEventSink, CommandLinks } from "./command-transport.js";

export interface CommandRunnerOptions {
  readonly db: Db;
  readonly links: CommandLinks;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** How often expired commands are timed out (0: only when sweep() is called, for tests). */
  readonly sweepEveryMs?: number;
  /** How long after its deadline a sent or running command waits for its agent's own timeout. */
  readonly deadlineGraceMs?: number;
  /** How often wait() re-reads a command (another replica may end it). */
  readonly pollEveryMs?: number;
  readonly journal?: {
    readonly maxBufferedBytes?: number;
    readonly maxBatchBytes?: number;
    readonly lanes?: number;
    readonly copyFromBytes?: number;
  };
  /**
   * This replica's id in cross-replica nudges (LISTEN/NOTIFY on ocore_commands); null: neither
   * listen nor notify (a single process that holds every agent, e.g. the benchmark).
   */
  readonly replicaId?: string | null;
  /** The live feed to publish to (default: a new in-process one; replicas pass a relayed one). */
  readonly feed?: CommandFeed;
  /** Called when a command's end is stored (metrics, benchmarks). */
  readonly onEnded?: (commandId: string, state: FinalState) => void;
}

/** The runner, plus what the gateway, the API and start-up need. */
export interface CommandService extends CommandRunner {
  submit<I extends DescMessage>(
    command: SubmitCommand<I>,
    context?: AuditContext,
  ): Promise<{ readonly commandId: string }>;
  /** Many commands in one transaction with one audit entry (fan-out to a fleet). */
  submitMany<I extends DescMessage>(
    commands: readonly SubmitCommand<I>[],
    context?: AuditContext,
  ): Promise<readonly string[]>;
  /** `context` null: not audited (the caller of a read went away; nothing it changed is stopped). */
  cancel(
    commandId: string,
    actor: CommandActor,
    reason: string,
    context?: AuditContext | null,
  ): Promise<void>;
  /**
   * Delivers commands a caller stored with insertCommands inside its own transaction (so that
   * they commit together with its own rows), once that transaction committed.
   */
  deliverStored(rows: readonly CommandRow[]): Promise<void>;
  /** Times out commands past their deadline (runs on a timer; tests call it). */
  sweep(): Promise<void>;
  readonly sink: CommandEventSink;
  readonly feed: CommandFeed;
  readonly journal: CommandJournal;
  readonly delivery: CommandDelivery;
  /** Cross-replica nudges (undefined when replicaId is null). */
  readonly nudges: CommandNudges | undefined;
  close(): Promise<void>;
}
