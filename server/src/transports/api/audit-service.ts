import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type AuditFilter as AuditFilterMessage,
  type AuditService,
  ExportFormat,
} from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { auditCsvHeader, auditCsvLine, auditJsonLine } from "../../domain/audit/audit-export.js";
import type { AuditFeed } from "../../domain/audit/audit-feed.js";
import {
  type AuditFilter,
  latestAuditId,
  listAuditEntries,
  readAuditEntries,
} from "../../domain/audit/query-audit.js";
import type { AuditRow } from "../../domain/audit/record-audit.js";
import { verifyAuditChain } from "../../domain/audit/verify-audit-chain.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import { optionalRequestDate, requestRowId } from "./request-values.js";

function entryMessage(row: AuditRow) {
  return { ...row, id: BigInt(row.id), at: timestampFromDate(row.at) };
}

function filterOf(message: AuditFilterMessage | undefined): AuditFilter {
  return {
    actor: message?.actor || undefined,
    action: message?.action || undefined,
    target: message?.target || undefined,
    since: optionalRequestDate(message?.since, "filter.since"),
    until: optionalRequestDate(message?.until, "filter.until"),
  };
}

export function createAuditService({
  db,
  feed,
}: {
  db: Db;
  feed: AuditFeed;
}): ServiceImpl<typeof AuditService> {
  return {
    async listAuditEntries(request) {
      const limit = request.limit || 100;
      if (limit > 500) throw AppError.invalid("limit", "must be at most 500");
      // Read before the page: every entry up to it is committed, so the page holds all of them
      // that match (see FollowAuditLog's after_id).
      const latestId = await latestAuditId(db);
      const rows = await listAuditEntries(db, filterOf(request.filter), {
        limit,
        beforeId: requestRowId(request.beforeId, "beforeId", "an audit entry"),
      });
      return { entries: rows.map(entryMessage), latestId: BigInt(latestId) };
    },
    async verifyAuditChain() {
      const verdict = await verifyAuditChain(db);
      return {
        ok: verdict.ok,
        checked: BigInt(verdict.checked),
        firstBrokenId: BigInt(verdict.firstBrokenId ?? 0),
        problem: verdict.problem ?? "",
      };
    },
    async *exportAuditLog(request) {
      const csv = request.format === ExportFormat.CSV;
      const encoder = new TextEncoder();
      let buffer = csv ? auditCsvHeader : "";
      for await (const row of readAuditEntries(db, filterOf(request.filter))) {
        buffer += csv ? auditCsvLine(row) : auditJsonLine(row);
        if (buffer.length >= 64 * 1024) {
          yield { chunk: encoder.encode(buffer) };
          buffer = "";
        }
      }
      if (buffer) yield { chunk: encoder.encode(buffer) };
    },
    async *followAuditLog(request, context) {
      const after = requestRowId(request.afterId, "afterId", "an audit entry");
      for await (const event of feed.follow(filterOf(request.filter), after, context.signal)) {
        yield event.kind === "entry" ? { entry: entryMessage(event.row) } : { caughtUp: true };
      }
    },
  };
}
