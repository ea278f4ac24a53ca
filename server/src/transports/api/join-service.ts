import { durationMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { JoinService } from "@ocore/proto/gen/ocore/api/v1/join_service_pb.js";
import { createJoinCommand } from "../../domain/joining/create-join-command.js";
import { type JoinView, listJoinCommands } from "../../domain/joining/find-join-command.js";
import type { JoinDeps } from "../../domain/joining/join-deps.js";
import { revokeJoinCommand } from "../../domain/joining/revoke-join-command.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { AppError } from "../../platform/errors/app-error.js";
import { auditContextOf } from "./request-context.js";

const toMessage = (join: JoinView) => ({
  id: join.id,
  serverId: join.serverId,
  serverName: join.serverName,
  state: join.state,
  createdAt: timestampFromDate(join.createdAt),
  expiresAt: timestampFromDate(join.expiresAt),
  usedAt: join.usedAt ? timestampFromDate(join.usedAt) : undefined,
  revokedAt: join.revokedAt ? timestampFromDate(join.revokedAt) : undefined,
  serverUrl: join.serverUrl,
  createdBy: join.createdBy,
});

/** ocore.api.v1.JoinService: decode, call the domain, encode. Refused without the join deps. */
export function createJoinService(deps: JoinDeps | undefined): ServiceImpl<typeof JoinService> {
  const joins = () => {
    if (!deps) throw new AppError("unavailable", "joining hosts is not configured on this server");
    return deps;
  };
  return {
    async createJoinCommand(request, context) {
      const created = await createJoinCommand(joins(), auditContextOf(context), {
        serverId: request.serverId,
        name: request.name,
        tags: request.tags,
        ttlMs: request.ttl ? durationMs(request.ttl) : undefined,
        serverUrl: request.serverUrl,
        plannedInstances: request.plannedInstances,
        acceptedRequirements: request.acceptedRequirements,
      });
      return {
        joinCommand: toMessage(created.join),
        command: created.command,
        verifiedCommand: created.verifiedCommand,
        scriptSha256: created.scriptSha256,
        uninstallCommand: created.uninstallCommand,
      };
    },
    async listJoinCommands(request) {
      const { db, now } = joins();
      if (request.serverId && !isUuid(request.serverId)) {
        throw AppError.invalid("serverId", "must be a server's id (a UUID)");
      }
      const rows = await listJoinCommands(db, { serverId: request.serverId || undefined, now: now() });
      return { joinCommands: rows.map(toMessage) };
    },
    async revokeJoinCommand(request, context) {
      const revoked = await revokeJoinCommand(joins(), auditContextOf(context), request.id);
      return { joinCommand: toMessage(revoked) };
    },
  };
}
