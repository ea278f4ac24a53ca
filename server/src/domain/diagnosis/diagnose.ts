import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { diagnosisConversations, diagnosisTurns } from "../../platform/db/schema/diagnosis.js";
import { commandTemplates } from "../../platform/db/schema/templates.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import type { Principal, Scope } from "../auth/principal.js";
import type { MetricsRetention } from "../metrics/rollups.js";
import { buildReport, type DiagnosisReport } from "./build-report.js";
import { gatherEvidence } from "./gather-evidence.js";
import { createAnonymizer, type ReportExplainer, reportForModel } from "./report-explainer.js";
import { type DiagnosisTargets, resolveDiagnosisTargets } from "./resolve-diagnosis-targets.js";

export const MAX_QUESTION_CHARS = 2000;
const HOUR_MS = 3_600_000;
const DEFAULT_WINDOW_MS = 2 * HOUR_MS;
const MAX_WINDOW_MS = 7 * 24 * HOUR_MS;
/** Turns of history a follow-up gives the model. */
const HISTORY_TURNS = 5;

export interface DiagnoseInput {
  readonly question: string;
  readonly targets: DiagnosisTargets;
  readonly from?: Date;
  readonly to?: Date;
  readonly conversationId: string;
}

export interface DiagnosisDeps {
  readonly db: Db;
  readonly retention: MetricsRetention;
  /** Set when OCORE_AI_ENDPOINT is configured. */
  readonly explainer?: ReportExplainer;
  readonly anonymize: boolean;
  readonly now: () => Date;
}

/** What a stored turn's input remembers, so a follow-up can inherit it. */
interface TurnInput {
  readonly serverIds: readonly string[];
  readonly from: string;
  readonly to: string;
}

export interface DiagnosisTurnView {
  readonly position: number;
  readonly question: string;
  readonly report: DiagnosisReport;
  readonly explanation: string;
  readonly createdAt: Date;
}

/**
 * Answers one question: resolves the servers inside the caller's `diagnosis.run` scope (a
 * follow-up inherits the previous turn's servers and window, re-checked against the scope),
 * gathers their evidence, builds the deterministic report, lets the optional model explain it
 * (anonymized; a model failure leaves the report standing), and stores the turn with its audit
 * entry in one transaction.
 */
export async function diagnose(
  deps: DiagnosisDeps,
  principal: Principal,
  scope: Scope,
  audit: AuditContext,
  input: DiagnoseInput,
): Promise<{ conversationId: string; turn: DiagnosisTurnView }> {
  const question = input.question.trim();
  if (question === "") throw AppError.invalid("question", "is required");
  if (question.length > MAX_QUESTION_CHARS)
    throw AppError.invalid("question", `may be at most ${MAX_QUESTION_CHARS} characters`);
  const now = deps.now();
  const conversation = input.conversationId
    ? await getOwnConversation(deps.db, principal, input.conversationId)
    : undefined;
  const previous = conversation ? await lastTurnInput(deps.db, conversation.id) : undefined;
  const named =
    input.targets.serverIds.length > 0 ||
    input.targets.selector.trim() !== "" ||
    input.targets.instanceId !== "" ||
    input.targets.alertId !== "";
  const targets = named || !previous ? input.targets : { ...input.targets, serverIds: previous.serverIds };
  const resolved = await resolveDiagnosisTargets(deps.db, { targets: { ...targets, question }, scope });
  const window = chooseWindow(input, previous, resolved.alertStartedAt, now);
  const evidence = await Promise.all(
    resolved.servers.map((server) =>
      gatherEvidence(deps.db, { server, window, now, retention: deps.retention }),
    ),
  );
  const report = await withTemplateIds(deps.db, buildReport(question, window, evidence));
  let explanation = "";
  if (deps.explainer) {
    const anonymizer = createAnonymizer(deps.anonymize ? resolved.servers.map((s) => s.name) : []);
    const history = conversation ? await recentSummaries(deps.db, conversation.id) : [];
    try {
      const answer = await deps.explainer.explain({
        question: anonymizer.hide(question),
        report: reportForModel(report, anonymizer),
        history: history.map((h) => ({
          question: anonymizer.hide(h.question),
          summary: anonymizer.hide(h.summary),
        })),
      });
      explanation = anonymizer.reveal(answer).slice(0, 20_000);
    } catch (error) {
      explanation = `(The language model could not be reached: ${(error as Error).message.slice(0, 200)}. The report above does not depend on it.)`;
    }
  }
  const turnInput: TurnInput = {
    serverIds: resolved.servers.map((s) => s.id),
    from: window.from.toISOString(),
    to: window.to.toISOString(),
  };
  const stored = JSON.parse(JSON.stringify(report)) as DiagnosisReport;
  return deps.db.transaction(async (tx) => {
    let conversationId = conversation?.id;
    if (!conversationId) {
      const [row] = await tx
        .insert(diagnosisConversations)
        .values({
          ownerKind: principal.kind,
          ownerId: principal.id,
          title: question.slice(0, 200),
          createdAt: now,
          updatedAt: now,
        })
        .returning({ id: diagnosisConversations.id });
      conversationId = (row as { id: string }).id;
    } else {
      await tx
        .update(diagnosisConversations)
        .set({ updatedAt: now })
        .where(eq(diagnosisConversations.id, conversationId));
    }
    const [{ next } = { next: 1 }] = await tx
      .select({ next: sql<number>`coalesce(max(${diagnosisTurns.position}), 0) + 1` })
      .from(diagnosisTurns)
      .where(eq(diagnosisTurns.conversationId, conversationId));
    const position = Number(next);
    await tx.insert(diagnosisTurns).values({
      conversationId,
      position,
      question,
      input: turnInput,
      report: stored,
      explanation,
      createdAt: now,
    });
    await recordAudit(
      tx,
      audit,
      {
        action: "diagnosis.run",
        targetType: "diagnosis",
        targetId: conversationId,
        after: {
          question,
          servers: resolved.servers.map((s) => s.name),
          window: { from: turnInput.from, to: turnInput.to },
          top: report.findings[0]?.title ?? "",
          model: deps.explainer ? "explained" : "none",
        },
      },
      now,
    );
    return { conversationId, turn: { position, question, report, explanation, createdAt: now } };
  });
}

function chooseWindow(
  input: DiagnoseInput,
  previous: TurnInput | undefined,
  alertStartedAt: Date | undefined,
  now: Date,
) {
  let to =
    input.to ??
    (alertStartedAt ? new Date(Math.min(now.getTime(), alertStartedAt.getTime() + HOUR_MS)) : undefined);
  let from = input.from ?? (alertStartedAt ? new Date(alertStartedAt.getTime() - HOUR_MS) : undefined);
  if (!to && !from && previous) {
    from = new Date(previous.from);
    to = new Date(previous.to);
  }
  to ??= now;
  from ??= new Date(to.getTime() - DEFAULT_WINDOW_MS);
  if (!(from < to)) throw AppError.invalid("start_time", "must be before end_time");
  if (to.getTime() - from.getTime() > MAX_WINDOW_MS)
    throw AppError.invalid("start_time", "the window may span at most 7 days");
  return { from, to };
}

async function withTemplateIds(db: Db, report: DiagnosisReport): Promise<DiagnosisReport> {
  const keys = [...new Set(report.remediation.flatMap((r) => (r.templateKey ? [r.templateKey] : [])))];
  if (keys.length === 0) return report;
  const rows = await db
    .select({ id: commandTemplates.id, key: commandTemplates.key })
    .from(commandTemplates)
    .where(inArray(commandTemplates.key, keys));
  const ids = new Map(rows.map((r) => [r.key, r.id]));
  return {
    ...report,
    remediation: report.remediation.map((r) => {
      const templateId = r.templateKey ? ids.get(r.templateKey) : undefined;
      return templateId ? { ...r, templateId } : r;
    }),
  };
}

async function getOwnConversation(db: Db, principal: Principal, id: string) {
  AppError.requireId(id, "conversation_id");
  const [row] = await db
    .select()
    .from(diagnosisConversations)
    .where(
      and(
        eq(diagnosisConversations.id, id),
        eq(diagnosisConversations.ownerKind, principal.kind),
        eq(diagnosisConversations.ownerId, principal.id),
      ),
    );
  if (!row) throw AppError.notFound("the conversation");
  return row;
}

async function lastTurnInput(db: Db, conversationId: string): Promise<TurnInput | undefined> {
  const [row] = await db
    .select({ input: diagnosisTurns.input })
    .from(diagnosisTurns)
    .where(eq(diagnosisTurns.conversationId, conversationId))
    .orderBy(desc(diagnosisTurns.position))
    .limit(1);
  return row?.input as TurnInput | undefined;
}

async function recentSummaries(db: Db, conversationId: string) {
  const rows = await db
    .select({ question: diagnosisTurns.question, report: diagnosisTurns.report })
    .from(diagnosisTurns)
    .where(eq(diagnosisTurns.conversationId, conversationId))
    .orderBy(desc(diagnosisTurns.position))
    .limit(HISTORY_TURNS);
  return rows
    .reverse()
    .map((r) => ({ question: r.question, summary: (r.report as DiagnosisReport).summary }));
}

/** One of the caller's conversations with its turns, oldest first. */
export async function getConversation(db: Db, principal: Principal, id: string) {
  const conversation = await getOwnConversation(db, principal, id);
  const turns = await db
    .select()
    .from(diagnosisTurns)
    .where(eq(diagnosisTurns.conversationId, id))
    .orderBy(asc(diagnosisTurns.position));
  return {
    conversation: { ...conversation, turns: turns.length },
    turns: turns.map(
      (t): DiagnosisTurnView => ({
        position: t.position,
        question: t.question,
        report: t.report as DiagnosisReport,
        explanation: t.explanation,
        createdAt: t.createdAt,
      }),
    ),
  };
}

/** The caller's conversations, newest first. */
export async function listConversations(db: Db, principal: Principal, limit: number) {
  const bounded = limit <= 0 ? 50 : Math.min(limit, 200);
  return db
    .select({
      id: diagnosisConversations.id,
      title: diagnosisConversations.title,
      createdAt: diagnosisConversations.createdAt,
      updatedAt: diagnosisConversations.updatedAt,
      turns: sql<number>`(select count(*) from diagnosis_turns t where t.conversation_id = ${diagnosisConversations.id})::int`,
    })
    .from(diagnosisConversations)
    .where(
      and(
        eq(diagnosisConversations.ownerKind, principal.kind),
        eq(diagnosisConversations.ownerId, principal.id),
      ),
    )
    .orderBy(desc(diagnosisConversations.updatedAt))
    .limit(bounded);
}
