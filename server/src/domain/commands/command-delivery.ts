import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type CommandEvent, CommandOutcome } from "@ocore/proto/gen/ocore/agent/v1/agent_service_pb.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { CommandJournal } from "./command-journal.js";
import {
  type CommandRow,
  deliverableCommands,
  type FinalState,
  findCommand,
  isFinal,
} from "./command-records.js";
import type { CommandLink } from "./command-transport.js";

const TYPE_URL_PREFIX = "type.googleapis.com/";
/** Ended commands remembered to ignore replayed steps cheaply (about 100 bytes each). */
const RECENTLY_ENDED = 50_000;

/** The protobuf type name of an Any's type URL ("type.googleapis.com/ocore.agent.v1.X" → "ocore.agent.v1.X"). */
export function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
}

/**
 * A chunk that keeps only its own bytes alive: protobuf-es decodes `bytes` as a view into the
 * received message, so a small chunk would pin the whole message (several chunks when the agent
 * batches them, or an 8 KiB pool slab) while it waits in the journal. A chunk that is at least a
 * quarter of its buffer is kept as it is: copying it would cost more than what it pins.
 */
export function ownBytes(data: Uint8Array): Uint8Array {
  return data.byteLength * 4 < data.buffer.byteLength ? data.slice() : data;
}

const outcomes: Record<CommandOutcome, FinalState | undefined> = {
  [CommandOutcome.UNSPECIFIED]: undefined,
  [CommandOutcome.SUCCEEDED]: "succeeded",
  [CommandOutcome.FAILED]: "failed",
  [CommandOutcome.CANCELLED]: "cancelled",
  [CommandOutcome.TIMED_OUT]: "timed_out",
};

/** An open command this process delivered or heard about. */
interface Tracked {
  readonly serverId: string;
  /** The stream it was last written to (a new stream gets it again). */
  link: CommandLink | undefined;
  /** The last output chunk accepted (chunks are numbered 1, 2, 3… per command). */
  lastSequence: number;
  /** The end is recorded (or queued for storage); later events are ignored. */
  ended: boolean;
}

export interface CommandDelivery {
  /** Writes one stored command to a live stream (once per stream) and records it as sent. */
  send(link: CommandLink, row: CommandRow): Promise<void>;
  /** Delivers every open command of the link's server whose deadline has not passed. */
  deliverAll(link: CommandLink): Promise<void>;
  handleEvent(link: CommandLink, event: CommandEvent): Promise<void>;
  /** The command ended outside the agent's events (cancelled while queued, timed out). */
  forget(commandId: string): void;
  /** Open commands this process wrote to a stream that is still live, with that stream. */
  openOnLiveStreams(): Array<{ readonly commandId: string; readonly link: CommandLink }>;
  readonly tracked: number;
}

/**
 * Delivery and the agent's side of a command's life: which stream has which command, and the
 * validation of every event (the command must belong to the stream's server; output chunks come
 * in order without gaps; one end).
 */
export function createCommandDelivery(deps: {
  readonly db: Db;
  readonly journal: CommandJournal;
  readonly logger: Logger;
  readonly now: () => Date;
}): CommandDelivery {
  const { db, journal, now } = deps;
  const tracked = new Map<string, Tracked>();
  /**
   * Commands that ended here lately, with their server: an agent replays what it wrote to a stream
   * that died (decision 0250), and those late steps are ignored without a database read each.
   */
  const recentlyEnded = new Map<string, string>();

  const unknownCommand = (commandId: string) =>
    new AppError(
      "invalid_argument",
      `command ${commandId} is not a command of this server; an agent may only report commands it was sent`,
    );

  /** The tracking entry of an event's command, loaded from the database when not yet known. */
  async function trackedFor(link: CommandLink, commandId: string): Promise<Tracked | undefined> {
    const known = tracked.get(commandId);
    if (known) {
      if (known.serverId !== link.serverId) throw unknownCommand(commandId);
      return known;
    }
    const endedOn = recentlyEnded.get(commandId);
    if (endedOn !== undefined) {
      if (endedOn !== link.serverId) throw unknownCommand(commandId);
      return undefined;
    }
    const row = await findCommand(db, commandId);
    if (!row || row.serverId !== link.serverId) throw unknownCommand(commandId);
    if (isFinal(row.state)) return undefined; // a late event (a re-sent end): already recorded
    const entry: Tracked = { serverId: row.serverId, link, lastSequence: row.outputChunks, ended: false };
    tracked.set(commandId, entry);
    return entry;
  }

  async function endWith(
    commandId: string,
    entry: Tracked,
    end: { state: FinalState; code: string; message: string },
  ) {
    entry.ended = true;
    await journal.append({
      kind: "finished",
      commandId,
      state: end.state,
      exitCode: 0,
      errorCode: end.code,
      errorMessage: end.message,
      resultType: null,
      result: null,
      at: now(),
    });
  }

  return {
    get tracked() {
      return tracked.size;
    },
    async send(link, row) {
      let entry = tracked.get(row.id);
      if (!entry) {
        entry = { serverId: row.serverId, link: undefined, lastSequence: row.outputChunks, ended: false };
        tracked.set(row.id, entry);
      }
      if (entry.link === link || entry.ended || !link.live) return;
      entry.link = link;
      link.sendCommand({
        commandId: row.id,
        spec: { typeUrl: `${TYPE_URL_PREFIX}${row.specType}`, value: row.spec },
        deadline: timestampFromDate(row.deadline),
      });
      if (row.state === "queued") await journal.append({ kind: "sent", commandId: row.id, at: now() });
      await link.writable();
    },
    async deliverAll(link) {
      const rows = await deliverableCommands(db, link.serverId, now());
      for (const row of rows) {
        if (!link.live) return;
        await this.send(link, row);
      }
      if (rows.length > 0)
        deps.logger.info({ serverId: link.serverId, commands: rows.length }, "commands delivered");
    },
    async handleEvent(link, event) {
      const { commandId } = event;
      const entry = await trackedFor(link, commandId);
      if (!entry || entry.ended) return;
      entry.link = link;
      const step = event.event;
      switch (step.case) {
        case "started":
          await journal.append({
            kind: "started",
            commandId,
            at: step.value.startedAt ? timestampDate(step.value.startedAt) : now(),
          });
          return;
        case "output": {
          const sequence = Number(step.value.sequence);
          if (sequence <= entry.lastSequence) return; // a repeat after a redelivery: stored once
          if (sequence !== entry.lastSequence + 1) {
            const missing = `${entry.lastSequence + 1}..${sequence - 1}`;
            deps.logger.warn({ commandId, missing }, "command output has a gap; failing the command");
            link.sendCancel(commandId, `output chunks ${missing} never arrived`);
            await endWith(commandId, entry, {
              state: "failed",
              code: "output_lost",
              message: `output chunks ${missing} never reached the server (the agent's connection dropped while it sent them); the command's effect is unknown: check the host, then run it again if needed`,
            });
            return;
          }
          entry.lastSequence = sequence;
          await journal.append({
            kind: "output",
            commandId,
            sequence,
            stream: step.value.stream,
            data: ownBytes(step.value.data),
          });
          return;
        }
        case "finished": {
          const finished = step.value;
          const state = outcomes[finished.outcome];
          if (!state) throw AppError.invalid("commandEvent.finished.outcome", "is not set");
          entry.ended = true;
          if (finished.outputChunks > BigInt(entry.lastSequence))
            deps.logger.warn(
              { commandId, received: entry.lastSequence, produced: Number(finished.outputChunks) },
              "a command ended with output chunks that never reached the server",
            );
          await journal.append({
            kind: "finished",
            commandId,
            state,
            exitCode: finished.exitCode,
            errorCode: state === "succeeded" ? null : finished.errorCode || state,
            errorMessage:
              state === "succeeded" ? null : finished.errorMessage || `the agent reported ${state}`,
            resultType: finished.result ? typeNameOf(finished.result.typeUrl) : null,
            result: finished.result ? finished.result.value : null,
            at: finished.finishedAt ? timestampDate(finished.finishedAt) : now(),
          });
          return;
        }
        default:
          throw AppError.invalid("commandEvent", "carries no event");
      }
    },
    forget(commandId) {
      const entry = tracked.get(commandId);
      tracked.delete(commandId);
      if (!entry) return;
      recentlyEnded.set(commandId, entry.serverId);
      if (recentlyEnded.size > RECENTLY_ENDED) {
        const oldest = recentlyEnded.keys().next().value;
        if (oldest !== undefined) recentlyEnded.delete(oldest);
      }
    },
    openOnLiveStreams() {
      const open: Array<{ commandId: string; link: CommandLink }> = [];
      for (const [commandId, entry] of tracked) {
        if (!entry.ended && entry.link?.live) open.push({ commandId, link: entry.link });
      }
      return open;
    },
  };
}
