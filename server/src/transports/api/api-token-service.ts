import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { ApiTokenService } from "@ocore/proto/gen/ocore/api/v1/api_token_service_pb.js";
import {
  type ApiTokenView,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from "../../domain/api-tokens/api-tokens.js";
import type { Db } from "../../platform/db/database.js";
import { auditContextOf, principalOf } from "./request-context.js";

function tokenMessage(token: ApiTokenView) {
  const optional = (date: Date | null) => (date ? timestampFromDate(date) : undefined);
  return {
    id: token.id,
    name: token.name,
    prefix: token.prefix,
    role: token.role,
    selector: token.selector,
    createdBy: token.createdByName,
    createdAt: timestampFromDate(token.createdAt),
    expiresAt: timestampFromDate(token.expiresAt),
    lastUsedAt: optional(token.lastUsedAt),
    revokedAt: optional(token.revokedAt),
  };
}

export function createApiTokenService({
  db,
  now,
}: {
  db: Db;
  now: () => Date;
}): ServiceImpl<typeof ApiTokenService> {
  return {
    async createApiToken(request, context) {
      const { token, secret } = await createApiToken(
        db,
        auditContextOf(context),
        principalOf(context),
        {
          name: request.name,
          role: request.role.trim(),
          selector: request.selector.trim(),
          ttlDays: request.ttlDays || 90,
        },
        now(),
      );
      return { token: tokenMessage(token), secret };
    },
    async listApiTokens(request) {
      return { tokens: (await listApiTokens(db, request.includeRevoked, now())).map(tokenMessage) };
    },
    async revokeApiToken(request, context) {
      await revokeApiToken(db, auditContextOf(context), request.id, now());
      return {};
    },
  };
}
