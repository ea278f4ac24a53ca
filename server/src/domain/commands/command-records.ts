import { randomUUID } from "node:crypto";
import { and, desc, eq, gt, inArray, lt, or, sql } from "drizzle-orm";
import { isUuid } from "../../platform/db/is-uuid.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { commands } from "../../platform/db/schema/commands.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import type { CommandActor, CommandState } from "./command-runner.js";

export type CommandRow = typeof commands.$inferSelect;

export const OPEN_STATES = ["queued", "sent", "running"] as const satisfies readonly CommandState[];
export type OpenState = (typeof OPEN_STATES)[number];
export type FinalState = Exclude<CommandState, OpenState>;

export function isFinal(state: string): state is FinalState {
  return !(OPEN_STATES as readonly string[]).includes(state);
}

/** The longest a command may wait for its agent and run. */
export const MAX_DEADLINE_MS = 7 * 24 * 3_600_000;
/** Servers named in a "does not exist" error before "and N more". */
const MISSING_SHOWN = 3;

export interface NewCommand {
  readonly serverId: string;
  readonly specType: string;
  readonly spec: Uint8Array;
  readonly deadline: Date;
  readonly actor: CommandActor;
  /** The agent's stream is live: store it as sent, for it goes out right after the commit. */
  readonly sendNow?: boolean;
}

/** The audit log's view of a command's submitter. */
export function auditContextOfActor(actor: CommandActor): AuditContext {
  const type = actor.kind === "api_token" ? "token" : actor.kind;
  return { actor: { type, id: actor.id ?? "", name: actor.id ?? actor.kind }, sourceIp: "", userAgent: "" };
}

function checkNewCommand(command: NewCommand, now: Date): void {
  AppError.requireId(command.serverId, "serverId");
  if (!command.specType) throw AppError.invalid("spec", "names no command type");
  if (Number.isNaN(command.deadline.getTime())) throw AppError.invalid("deadline", "is not a valid time");
  if (command.deadline.getTime() <= now.getTime()) {
    throw AppError.invalid(
      "deadline",
      `${command.deadline.toISOString()} has already passed; give the command time to reach its agent and run`,
    );
  }
  if (command.deadline.getTime() - now.getTime() > MAX_DEADLINE_MS) {
    throw AppError.invalid("deadline", "is more than 7 days away; commands must finish within a week");
  }
}

/**
 * Stores new commands as `queued` (or `sent` when their stream is live), all or none, with one
 * audit entry (`command.submit`) in the same transaction. Every server must exist; an unknown one
 * fails the whole call. However many commands, it is one INSERT with two parameters (rows as
 * JSON, distinct specs as a JSON array of base64): ids are made here, so nothing is read back.
 */
export async function insertCommands(
  /** The database, or a transaction the commands must commit with (a nested one becomes a savepoint). */
  db: Queryable,
  /** null: not audited (a read, see SubmitCommand.audit). */
  context: AuditContext | null,
  input: readonly NewCommand[],
  now: Date,
): Promise<CommandRow[]> {
  if (input.length === 0) throw AppError.invalid("commands", "is empty");
  for (const command of input) checkNewCommand(command, now);
  const specIndex = new Map<string, number>();
  const specs: string[] = [];
  const rows: CommandRow[] = [];
  const json: Array<Record<string, unknown>> = [];
  for (const command of input) {
    const spec = Buffer.from(command.spec.buffer, command.spec.byteOffset, command.spec.byteLength).toString(
      "base64",
    );
    let p = specIndex.get(spec);
    if (p === undefined) {
      p = specs.push(spec) - 1;
      specIndex.set(spec, p);
    }
    const row: CommandRow = {
      id: randomUUID(),
      serverId: command.serverId,
      specType: command.specType,
      spec: command.spec,
      state: command.sendNow ? "sent" : "queued",
      deadline: command.deadline,
      actorKind: command.actor.kind,
      actorId: command.actor.id,
      createdAt: now,
      sentAt: command.sendNow ? now : null,
      startedAt: null,
      finishedAt: null,
      exitCode: 0,
      errorCode: null,
      errorMessage: null,
      resultType: null,
      result: null,
      outputChunks: 0,
      outputBytes: 0,
    };
    rows.push(row);
    json.push({
      i: row.id,
      s: row.serverId,
      t: row.specType,
      p,
      st: row.state,
      d: row.deadline.toISOString(),
      ak: row.actorKind,
      ai: row.actorId,
    });
  }
  const at = now.toISOString();
  return db.transaction(async (tx) => {
    // The join with servers drops rows of unknown servers: fewer rows inserted means some are.
    const result = await tx.execute(sql`insert into commands
        (id, server_id, spec_type, spec, state, deadline, actor_kind, actor_id, created_at, sent_at)
      select r.i, r.s, r.t, decode(${JSON.stringify(specs)}::jsonb ->> r.p, 'base64'), r.st, r.d, r.ak, r.ai,
        ${at}::timestamptz, case when r.st = 'sent' then ${at}::timestamptz end
      from json_to_recordset(${JSON.stringify(json)}::json)
        as r(i uuid, s uuid, t text, p int, st text, d timestamptz, ak text, ai text)
      join servers on servers.id = r.s`);
    const inserted = countOf(result);
    if (inserted !== rows.length) {
      const serverIds = [...new Set(rows.map((row) => row.serverId))];
      const known = new Set(
        rowsOf<{ id: string }>(
          await tx.execute(sql`select id from servers
            where id in (select value::uuid from json_array_elements_text(${JSON.stringify(serverIds)}::json))`),
        ).map((row) => row.id),
      );
      const missing = serverIds.filter((id) => !known.has(id));
      throw new AppError(
        "not_found",
        `server ${missing.slice(0, MISSING_SHOWN).join(", ")}${missing.length > MISSING_SHOWN ? ` and ${missing.length - MISSING_SHOWN} more` : ""} does not exist; check the id with ListServers (nothing was queued)`,
      );
    }
    const first = rows[0] as CommandRow;
    if (!context) return rows;
    await recordAudit(
      tx,
      context,
      {
        action: "command.submit",
        targetType: rows.length === 1 ? "command" : "commands",
        targetId: first.id,
        after: {
          kind: first.specType,
          deadline: first.deadline.toISOString(),
          commands: rows.length === 1 ? undefined : rows.length,
          servers: rows.length === 1 ? first.serverId : new Set(rows.map((row) => row.serverId)).size,
        },
      },
      now,
    );
    return rows;
  });
}

/** Rows an INSERT/UPDATE without RETURNING touched: postgres.js `count`, PGlite `affectedRows`. */
function countOf(result: unknown): number {
  const { count, affectedRows } = result as { count?: number; affectedRows?: number };
  return Number(count ?? affectedRows ?? 0);
}

export async function findCommand(db: Queryable, id: string): Promise<CommandRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.select().from(commands).where(eq(commands.id, id));
  return row;
}

export async function getCommand(db: Queryable, id: string): Promise<CommandRow> {
  AppError.requireId(id);
  const row = await findCommand(db, id);
  if (!row) throw AppError.notFound(`command ${id}`);
  return row;
}

/** The server a command belongs to (RBAC resolves the caller's scope through it). */
export async function serverIdOfCommand(db: Queryable, id: string): Promise<string | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.select({ serverId: commands.serverId }).from(commands).where(eq(commands.id, id));
  return row?.serverId;
}

function encodeCursor(row: CommandRow): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString("base64url");
}

function decodeCursor(token: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(token, "base64url").toString().split("|");
  const createdAt = new Date(at ?? "");
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) {
    throw AppError.invalid("pageToken", "is not a token from ListCommands; start again without one");
  }
  return { createdAt, id };
}

/** One page of a server's commands, newest first (keyset paging on created_at, id). */
export async function listCommands(
  db: Queryable,
  input: { serverId: string; pageSize: number; pageToken: string },
): Promise<{ rows: CommandRow[]; nextPageToken: string }> {
  AppError.requireId(input.serverId, "serverId");
  if (input.pageSize > 200) throw AppError.invalid("pageSize", "must be at most 200");
  const size = input.pageSize || 50;
  const cursor = input.pageToken ? decodeCursor(input.pageToken) : undefined;
  const rows = await db
    .select()
    .from(commands)
    .where(
      and(
        eq(commands.serverId, input.serverId),
        cursor
          ? or(
              lt(commands.createdAt, cursor.createdAt),
              and(eq(commands.createdAt, cursor.createdAt), lt(commands.id, cursor.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(commands.createdAt), desc(commands.id))
    .limit(size + 1);
  const page = rows.slice(0, size);
  const last = page.at(-1);
  return { rows: page, nextPageToken: rows.length > size && last ? encodeCursor(last) : "" };
}

/** Commands to (re)deliver to a server whose agent just connected, oldest first. */
export async function deliverableCommands(db: Queryable, serverId: string, now: Date): Promise<CommandRow[]> {
  return db
    .select()
    .from(commands)
    .where(
      and(
        eq(commands.serverId, serverId),
        inArray(commands.state, [...OPEN_STATES]),
        gt(commands.deadline, now),
      ),
    )
    .orderBy(commands.createdAt, commands.id);
}

/** Queued commands whose deadline has not passed, oldest first (a replica picks those of its agents). */
export async function queuedCommands(db: Queryable, now: Date, limit: number): Promise<CommandRow[]> {
  return db
    .select()
    .from(commands)
    .where(and(eq(commands.state, "queued"), gt(commands.deadline, now)))
    .orderBy(commands.createdAt, commands.id)
    .limit(limit);
}

/** Which of these commands have ended (another replica cancelled or timed them out). */
export async function endedAmong(
  db: Queryable,
  ids: readonly string[],
): Promise<Array<{ id: string; state: FinalState }>> {
  if (ids.length === 0) return [];
  const result = await db.execute(sql`select id, state from commands
    where id in (select value::uuid from json_array_elements_text(${JSON.stringify(ids)}::json))
      and state not in ('queued', 'sent', 'running')`);
  return rowsOf<{ id: string; state: FinalState }>(result);
}

export interface Finish {
  readonly state: FinalState;
  readonly exitCode?: number;
  readonly errorCode?: string | null;
  readonly errorMessage?: string | null;
  readonly resultType?: string | null;
  readonly result?: Uint8Array | null;
  readonly finishedAt: Date;
}

/** Ends an open command; undefined when it had already ended (the first final state wins). */
export async function finishCommand(
  db: Queryable,
  id: string,
  finish: Finish,
  states: readonly OpenState[] = OPEN_STATES,
): Promise<CommandRow | undefined> {
  const [row] = await db
    .update(commands)
    .set({
      state: finish.state,
      exitCode: finish.exitCode ?? 0,
      errorCode: finish.errorCode ?? null,
      errorMessage: finish.errorMessage ?? null,
      resultType: finish.resultType ?? null,
      result: finish.result ?? null,
      finishedAt: finish.finishedAt,
    })
    .where(and(eq(commands.id, id), inArray(commands.state, [...states])))
    .returning();
  return row;
}

/**
 * Times out open commands past their deadline: queued ones at once (their agent never got them),
 * sent and running ones after `graceMs` (their agent stops them itself and reports it).
 */
export async function expireOverdueCommands(
  db: Queryable,
  now: Date,
  graceMs: number,
): Promise<Array<{ id: string; serverId: string; previousState: OpenState }>> {
  const graceAt = new Date(now.getTime() - graceMs).toISOString();
  const at = now.toISOString();
  const result = await db.execute(sql`
    update commands set
      state = 'timed_out',
      finished_at = ${at}::timestamptz,
      error_code = case when o.state = 'queued' then 'agent_offline' else 'deadline_exceeded' end,
      error_message = case when o.state = 'queued'
        then 'the agent was offline until the deadline, so the command was never sent; bring the agent back (check the host, its network and the ocore-agent service) and run it again'
        else 'the agent did not report the end of the command before its deadline; check the host and the agent, then run it again if needed' end
    from (
      select id, state from commands
      where state in ('queued', 'sent', 'running')
        and (deadline <= ${at}::timestamptz and state = 'queued' or deadline <= ${graceAt}::timestamptz)
      for update
    ) o
    where commands.id = o.id
    returning commands.id, commands.server_id as "serverId", o.state as "previousState"`);
  return rowsOf<{ id: string; serverId: string; previousState: OpenState }>(result);
}
