import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import { permissions } from "../../domain/auth/permissions.js";
import { createUser } from "../../domain/users/create-user.js";
import { deleteUser } from "../../domain/users/delete-user.js";
import { resetUserPassword } from "../../domain/users/reset-user-password.js";
import { createRole, deleteRole, listRoles } from "../../domain/users/roles.js";
import { updateUser } from "../../domain/users/update-user.js";
import { listUsers, type UserView } from "../../domain/users/user-queries.js";
import type { Db } from "../../platform/db/database.js";
import { auditContextOf } from "./request-context.js";

function userMessage(user: UserView) {
  return {
    id: user.id,
    username: user.username,
    roleBindings: user.roleBindings.map((binding) => ({
      ...binding,
      sshLogins: [...(binding.sshLogins ?? [])],
    })),
    disabled: user.disabled,
    mustChangePassword: user.mustChangePassword,
    lockedUntil: user.lockedUntil ? timestampFromDate(user.lockedUntil) : undefined,
    createdAt: timestampFromDate(user.createdAt),
  };
}

const bindings = (list: readonly { role: string; selector: string; sshLogins: readonly string[] }[]) =>
  list.map(({ role, selector, sshLogins }) => ({
    role: role.trim(),
    selector: selector.trim(),
    sshLogins: sshLogins.map((login) => login.trim()),
  }));

export function createUserService({ db }: { db: Db }): ServiceImpl<typeof UserService> {
  return {
    async listUsers() {
      return { users: (await listUsers(db)).map(userMessage) };
    },
    async createUser(request, context) {
      const created = await createUser(db, auditContextOf(context), {
        username: request.username.trim(),
        roleBindings: bindings(request.roleBindings),
      });
      return { user: userMessage(created.user), oneTimePassword: created.oneTimePassword };
    },
    async updateUser(request, context) {
      const user = await updateUser(db, auditContextOf(context), {
        id: request.id,
        roleBindings: request.replaceRoleBindings ? bindings(request.roleBindings) : undefined,
        disabled: request.disabled,
      });
      return { user: userMessage(user) };
    },
    async resetUserPassword(request, context) {
      return { oneTimePassword: await resetUserPassword(db, auditContextOf(context), request.id) };
    },
    async deleteUser(request, context) {
      await deleteUser(db, auditContextOf(context), request.id);
      return {};
    },
    async listRoles() {
      return { roles: await listRoles(db), allPermissions: [...permissions] };
    },
    async createRole(request, context) {
      const role = await createRole(db, auditContextOf(context), {
        name: request.name.trim(),
        permissions: request.permissions,
        description: request.description,
      });
      return { role };
    },
    async deleteRole(request, context) {
      await deleteRole(db, auditContextOf(context), request.name);
      return {};
    },
  };
}
