import { type CheckResult, errorText, sentence } from "./check-result.js";
import { engineCall, engineMessage } from "./engine-call.js";

/** The database and role create-instance gives every instance (instances/odoo-config.ts). */
const DATABASE = "odoo";
const ROLE = "odoo";
const EXEC_TIMEOUT_MS = 10_000;
/** A cron whose next call is this far in the past is late (Odoo's cron thread wakes every minute). */
export const CRON_LAG_SECONDS = { warn: 15 * 60, critical: 60 * 60 } as const;
/** Outgoing mail this old is stuck (the mail queue cron sends every minute or so). */
export const MAIL_AGE_SECONDS = { warn: 30 * 60, critical: 2 * 3600 } as const;

/**
 * One line, `lag|overdue|outgoing|exception|oldest`: the most overdue active cron's delay in
 * seconds (0: none overdue), how many are more than 5 minutes late, and the mail queue (-1 when
 * the mail module is not installed: `mail_mail` does not exist, read through query_to_xml so
 * the statement still parses). Odoo keeps UTC timestamps without a time zone.
 */
export const DATABASE_CHECK_SQL = `select
  (select coalesce(floor(extract(epoch from (now() at time zone 'utc') - min(nextcall))), 0)::bigint
     from ir_cron where active and nextcall < now() at time zone 'utc')
  || '|' ||
  (select count(*) from ir_cron where active and nextcall < now() at time zone 'utc' - interval '5 minutes')
  || '|' ||
  case when to_regclass('mail_mail') is null then '-1|-1|-1'
  else (xpath('/row/r/text()', query_to_xml($q$
    select count(*) filter (where state = 'outgoing') || '|' || count(*) filter (where state = 'exception')
      || '|' || coalesce(floor(extract(epoch from (now() at time zone 'utc')
         - min(create_date) filter (where state in ('outgoing', 'exception')))), 0)::bigint as r
    from mail_mail$q$, false, true, '')))[1]::text end`;

/** psql's arguments for the check (unaligned, tuples only, stop on the first error). */
export function databaseCheckArgv(): string[] {
  return ["psql", "-X", "-U", ROLE, "-d", DATABASE, "-At", "-v", "ON_ERROR_STOP=1", "-c", DATABASE_CHECK_SQL];
}

/** What the query's line says, as the two checks (`odoo_cron`, `odoo_mail`) of instance `subject`. */
export function parseDatabaseCheck(line: string, subject: string): CheckResult[] {
  const numbers = line.trim().split("|").map(Number);
  if (numbers.length !== 5 || numbers.some((n) => !Number.isFinite(n))) {
    const why = `the database answered something unexpected: ${line.trim().slice(0, 200)}`;
    return [
      { key: "odoo_cron", subject, state: "unknown", message: sentence(why) },
      { key: "odoo_mail", subject, state: "unknown", message: sentence(why) },
    ];
  }
  const [lag, overdue, outgoing, exception, oldest] = numbers as [number, number, number, number, number];
  const minutes = (seconds: number) => `${Math.round(seconds / 60)} min`;
  const cron: CheckResult = {
    key: "odoo_cron",
    subject,
    value: lag,
    state: lag >= CRON_LAG_SECONDS.critical ? "critical" : lag >= CRON_LAG_SECONDS.warn ? "warning" : "ok",
    message: sentence(
      overdue === 0
        ? `no scheduled action is late${lag > 0 ? ` (the next is due ${lag} s ago)` : ""}`
        : `${overdue} scheduled action${overdue === 1 ? " is" : "s are"} late; the most overdue by ${minutes(lag)}`,
    ),
  };
  if (outgoing < 0) {
    return [cron, { key: "odoo_mail", subject, state: "ok", message: "the mail module is not installed" }];
  }
  const queued = outgoing + exception;
  const mail: CheckResult = {
    key: "odoo_mail",
    subject,
    value: queued,
    state:
      queued > 0 && oldest >= MAIL_AGE_SECONDS.critical
        ? "critical"
        : exception > 0 || (queued > 0 && oldest >= MAIL_AGE_SECONDS.warn)
          ? "warning"
          : "ok",
    message: sentence(
      queued === 0
        ? "the mail queue is empty"
        : `${outgoing} outgoing and ${exception} failed e-mail${queued === 1 ? "" : "s"} queued; the oldest for ${minutes(oldest)}`,
    ),
  };
  return [cron, mail];
}

/**
 * Runs the query with psql inside the instance's db container (Docker exec over the Engine API,
 * bounded by 10 s): cron lag and mail queue, read where the data is. A failure (no psql, the
 * database not created yet) is unknown with psql's own words.
 */
export async function checkOdooDatabase(
  socketPath: string,
  dbContainerId: string,
  subject: string,
): Promise<CheckResult[]> {
  const unknown = (why: string): CheckResult[] => [
    { key: "odoo_cron", subject, state: "unknown", message: sentence(why) },
    { key: "odoo_mail", subject, state: "unknown", message: sentence(why) },
  ];
  try {
    const created = await engineCall(
      socketPath,
      "POST",
      `/containers/${encodeURIComponent(dbContainerId)}/exec`,
      {
        timeoutMs: EXEC_TIMEOUT_MS,
        body: { Cmd: databaseCheckArgv(), AttachStdout: true, AttachStderr: true, Tty: true },
      },
    );
    if (created.status !== 201)
      return unknown(`could not run psql in the db container: ${engineMessage(created)}`);
    const execId = (JSON.parse(created.body) as { Id: string }).Id;
    const started = await engineCall(socketPath, "POST", `/exec/${execId}/start`, {
      timeoutMs: EXEC_TIMEOUT_MS,
      body: { Detach: false, Tty: true },
    });
    const inspected = await engineCall(socketPath, "GET", `/exec/${execId}/json`, {
      timeoutMs: EXEC_TIMEOUT_MS,
    });
    const exitCode = (JSON.parse(inspected.body) as { ExitCode?: number | null }).ExitCode;
    const output = started.body.replace(/\r/g, "").trim();
    if (exitCode !== 0) {
      return unknown(`psql in the db container failed (exit ${exitCode ?? "?"}): ${output.slice(0, 300)}`);
    }
    return parseDatabaseCheck(output.split("\n").at(-1) ?? "", subject);
  } catch (error) {
    return unknown(`could not read the database: ${errorText(error)}`);
  }
}
