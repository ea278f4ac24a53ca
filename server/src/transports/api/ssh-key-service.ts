import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { SshKeyService } from "@ocore/proto/gen/ocore/api/v1/ssh_key_service_pb.js";
import {
  addUserSshKey,
  deleteUserSshKey,
  listUserSshKeys,
  type UserSshKeyRow,
} from "../../domain/ssh-keys/user-ssh-keys.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import { auditContextOf, principalOf } from "./request-context.js";

function keyMessage(row: UserSshKeyRow) {
  return {
    id: row.id,
    name: row.name,
    algorithm: row.algorithm,
    fingerprint: row.fingerprint,
    publicKey: row.publicKey,
    createdAt: timestampFromDate(row.createdAt),
    lastUsedAt: row.lastUsedAt ? timestampFromDate(row.lastUsedAt) : undefined,
  };
}

/** The caller's own user id: SSH keys belong to users, not to API tokens. */
function callerUserId(context: HandlerContext): string {
  const principal = principalOf(context);
  if (principal.kind !== "user") {
    throw new AppError("permission_denied", "SSH keys belong to users; sign in as a user to manage them");
  }
  return principal.id;
}

export function createSshKeyService(deps: { db: Db; now: () => Date }): ServiceImpl<typeof SshKeyService> {
  return {
    async listSshKeys(_request, context) {
      return { keys: (await listUserSshKeys(deps.db, callerUserId(context))).map(keyMessage) };
    },
    async addSshKey(request, context) {
      const row = await addUserSshKey(
        deps.db,
        auditContextOf(context),
        callerUserId(context),
        { publicKey: request.publicKey, name: request.name },
        deps.now(),
      );
      return { key: keyMessage(row) };
    },
    async deleteSshKey(request, context) {
      await deleteUserSshKey(deps.db, auditContextOf(context), callerUserId(context), request.id, deps.now());
      return {};
    },
  };
}
