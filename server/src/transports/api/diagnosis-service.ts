import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { DiagnosisService } from "@ocore/proto/gen/ocore/api/v1/diagnosis_service_pb.js";
import { scopeOf } from "../../domain/auth/principal.js";
import type { DiagnosisReport } from "../../domain/diagnosis/build-report.js";
import {
  type DiagnosisDeps,
  type DiagnosisTurnView,
  diagnose,
  getConversation,
  listConversations,
} from "../../domain/diagnosis/diagnose.js";
import { reportMarkdown } from "../../domain/diagnosis/report-markdown.js";
import { auditContextOf, principalOf } from "./request-context.js";
import { requestDate } from "./request-values.js";

const ts = (value: Date | string | undefined): Timestamp | undefined =>
  value === undefined ? undefined : timestampFromDate(new Date(value));

function reportMessage(report: DiagnosisReport) {
  return {
    summary: report.summary,
    windowStart: ts(report.window.from),
    windowEnd: ts(report.window.to),
    baselines: report.baselines.map((b) => ({ ...b })),
    findings: report.findings.map((f) => ({
      analyzer: f.analyzer,
      serverId: f.serverId,
      serverName: f.serverName,
      title: f.title,
      likelihood: f.likelihood,
      windowStart: ts(f.window?.from),
      windowEnd: ts(f.window?.to),
      summary: f.summary,
      evidence: f.evidence.map((e) => ({
        kind: e.kind,
        label: e.label,
        windowStart: ts(e.window?.from),
        windowEnd: ts(e.window?.to),
        hasRange: e.min !== undefined || e.max !== undefined,
        min: e.min ?? e.max ?? 0,
        max: e.max ?? e.min ?? 0,
        unit: e.unit ?? "",
        alertId: e.alertId ?? "",
        text: e.text,
      })),
      alertIds: [...f.alertIds],
    })),
    alerts: report.alerts.map((a) => ({
      id: a.id,
      serverName: a.serverName,
      ruleName: a.ruleName,
      state: a.state,
      severity: a.severity,
      summary: a.summary,
    })),
    remediation: report.remediation.map((r) => ({
      priority: r.priority,
      title: r.title,
      templateKey: r.templateKey ?? "",
      templateId: r.templateId ?? "",
      parameters: { ...(r.parameters ?? {}) },
      note: r.note,
      serverId: r.serverId,
      serverName: r.serverName,
      finding: r.finding,
    })),
    steps: report.steps.map((s) => ({ ...s })),
  };
}

function turnMessage(turn: DiagnosisTurnView) {
  return {
    position: turn.position,
    question: turn.question,
    report: reportMessage(turn.report),
    explanation: turn.explanation,
    markdown: reportMarkdown(turn.question, turn.report, turn.explanation),
    createdAt: ts(turn.createdAt),
  };
}

/** DiagnosisService: questions about servers answered by the analyzers, kept as conversations. */
export function createDiagnosisService(deps: DiagnosisDeps): ServiceImpl<typeof DiagnosisService> {
  return {
    async diagnose(request, context: HandlerContext) {
      const principal = principalOf(context);
      const result = await diagnose(
        deps,
        principal,
        scopeOf(principal, "diagnosis.run"),
        auditContextOf(context, principal),
        {
          question: request.question,
          targets: {
            serverIds: request.serverIds,
            selector: request.selector,
            instanceId: request.instanceId,
            alertId: request.alertId,
          },
          ...(request.startTime ? { from: requestDate(request.startTime, "startTime") } : {}),
          ...(request.endTime ? { to: requestDate(request.endTime, "endTime") } : {}),
          conversationId: request.conversationId,
        },
      );
      return { conversationId: result.conversationId, turn: turnMessage(result.turn) };
    },
    async getConversation(request, context) {
      const { conversation, turns } = await getConversation(deps.db, principalOf(context), request.id);
      return {
        conversation: {
          id: conversation.id,
          title: conversation.title,
          turns: conversation.turns,
          createdAt: ts(conversation.createdAt),
          updatedAt: ts(conversation.updatedAt),
        },
        turns: turns.map(turnMessage),
      };
    },
    async listConversations(request, context) {
      const rows = await listConversations(deps.db, principalOf(context), request.limit);
      return {
        conversations: rows.map((c) => ({
          id: c.id,
          title: c.title,
          turns: Number(c.turns),
          createdAt: ts(c.createdAt),
          updatedAt: ts(c.updatedAt),
        })),
      };
    },
  };
}
