import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { DataFormat, type ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { scopeOf } from "../auth/principal.js";
import { parseSelector } from "../auth/selector.js";
import type { Db } from "../db/database.js";
import { AppError } from "../errors/app-error.js";
import { exportServers } from "../servers/server-export.js";
import { importServers } from "../servers/server-import.js";
import { getServer, listServers, type ServerRow, updateServer } from "../servers/servers.js";
import { auditContextOf, principalOf } from "./request-context.js";

function serverMessage(row: ServerRow) {
  return {
    id: row.id,
    name: row.name,
    host: row.host,
    sshPort: row.sshPort,
    sshUser: row.sshUser,
    status: row.status,
    statusReason: row.statusReason ?? "",
    statusMessage: row.statusMessage ?? "",
    tags: row.tags,
    lastSeenAt: row.lastSeenAt ? timestampFromDate(row.lastSeenAt) : undefined,
    createdAt: timestampFromDate(row.createdAt),
    agentVersion: row.agentVersion ?? "",
    facts: row.facts
      ? {
          ...row.facts,
          memoryTotalBytes: BigInt(row.facts.memoryTotalBytes),
          bootedAt: row.facts.bootedAt ? timestampFromDate(new Date(row.facts.bootedAt)) : undefined,
        }
      : undefined,
  };
}

function formatOf(format: DataFormat): "csv" | "json" {
  if (format === DataFormat.CSV) return "csv";
  if (format === DataFormat.JSON) return "json";
  throw AppError.invalid("format", "choose CSV or JSON");
}

export function createServerService({ db }: { db: Db }): ServiceImpl<typeof ServerService> {
  return {
    async listServers(request, context) {
      const scope = scopeOf(principalOf(context), "servers.read");
      const rows = await listServers(db, scope, {
        statuses: request.statuses,
        selector: request.selector ? parseSelector(request.selector) : undefined,
      });
      return { servers: rows.map(serverMessage) };
    },
    async getServer(request) {
      return { server: serverMessage(await getServer(db, request.id)) };
    },
    async updateServer(request, context) {
      const row = await updateServer(db, auditContextOf(context), {
        id: request.id,
        name: request.name,
        tags: request.replaceTags ? request.tags : undefined,
      });
      return { server: serverMessage(row) };
    },
    async importServers(request, context) {
      const report = await importServers(db, auditContextOf(context), {
        format: formatOf(request.format),
        data: request.data,
        dryRun: request.dryRun,
      });
      return report;
    },
    async exportServers(request, context) {
      const scope = scopeOf(principalOf(context), "servers.read");
      const rows = await listServers(db, scope, {
        selector: request.selector ? parseSelector(request.selector) : undefined,
      });
      return { data: new TextEncoder().encode(exportServers(rows, formatOf(request.format))) };
    },
  };
}
