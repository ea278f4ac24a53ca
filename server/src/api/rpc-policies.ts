import type { Permission } from "../auth/permissions.js";
import type { Tags } from "../auth/selector.js";
import type { Db } from "../db/database.js";
import { findServer } from "../servers/servers.js";

/**
 * Who may call what: ONE table for every RPC of the API. The auth interceptor refuses any RPC
 * that is not declared here (default deny), and a test checks that every method of every
 * service in the contract is declared.
 *
 * - `access`: "public" (no caller needed), "authenticated" (any signed-in caller), or a permission.
 * - `scope`: for a permission, "global" means it must be held without a tag selector; "server"
 *   means it may be held on some servers only: with `target` the interceptor checks the target
 *   server's tags, without it the handler limits what it returns (lists).
 * - `action`: the audit action of a state-changing RPC. Its handler records success in the same
 *   transaction as the change; the interceptor records failures and denials under this action.
 *   `auditedByHandler` RPCs (login) record every outcome themselves.
 */
export interface RpcPolicy {
  readonly access: "public" | "authenticated" | Permission;
  readonly scope?: "global" | "server";
  readonly target?: (message: unknown, db: Db) => Promise<Tags | undefined>;
  readonly action?: string;
  readonly auditedByHandler?: boolean;
  /** Callable with a one-time password that still has to be changed. */
  readonly allowDuringPasswordChange?: boolean;
}

/** The tags of the server a request names in its `id` field. */
const serverById = async (message: unknown, db: Db): Promise<Tags | undefined> => {
  const id = (message as { id?: unknown }).id;
  return typeof id === "string" ? (await findServer(db, id))?.tags : undefined;
};

/** The tags of the server a request names in its `serverId` field (agent channel RPCs). */
const serverByServerId = async (message: unknown, db: Db): Promise<Tags | undefined> =>
  serverById({ id: (message as { serverId?: unknown }).serverId }, db);

const global = (access: Permission, action?: string): RpcPolicy => ({ access, scope: "global", action });

export const rpcPolicies: Readonly<Record<string, RpcPolicy>> = {
  "ocore.api.v1.SystemService/GetInfo": { access: "public" },

  "ocore.api.v1.AuthService/Login": { access: "public", action: "auth.login", auditedByHandler: true },
  "ocore.api.v1.AuthService/Refresh": { access: "public", action: "auth.refresh", auditedByHandler: true },
  "ocore.api.v1.AuthService/Logout": {
    access: "authenticated",
    action: "auth.logout",
    allowDuringPasswordChange: true,
  },
  "ocore.api.v1.AuthService/ChangePassword": {
    access: "authenticated",
    action: "auth.change_password",
    allowDuringPasswordChange: true,
  },
  "ocore.api.v1.AuthService/GetCurrentUser": { access: "authenticated", allowDuringPasswordChange: true },

  "ocore.api.v1.UserService/ListUsers": global("users.read"),
  "ocore.api.v1.UserService/CreateUser": global("users.manage", "user.create"),
  "ocore.api.v1.UserService/UpdateUser": global("users.manage", "user.update"),
  "ocore.api.v1.UserService/ResetUserPassword": global("users.manage", "user.reset_password"),
  "ocore.api.v1.UserService/DeleteUser": global("users.manage", "user.delete"),
  "ocore.api.v1.UserService/ListRoles": global("users.read"),
  "ocore.api.v1.UserService/CreateRole": global("users.manage", "role.create"),
  "ocore.api.v1.UserService/DeleteRole": global("users.manage", "role.delete"),

  "ocore.api.v1.ApiTokenService/CreateApiToken": global("tokens.manage", "token.create"),
  "ocore.api.v1.ApiTokenService/ListApiTokens": global("tokens.manage"),
  "ocore.api.v1.ApiTokenService/RevokeApiToken": global("tokens.manage", "token.revoke"),

  "ocore.api.v1.AuditService/ListAuditEntries": global("audit.read"),
  "ocore.api.v1.AuditService/VerifyAuditChain": global("audit.read"),
  "ocore.api.v1.AuditService/ExportAuditLog": global("audit.read"),
  "ocore.api.v1.AuditService/FollowAuditLog": global("audit.read"),

  "ocore.api.v1.ServerService/ListServers": { access: "servers.read", scope: "server" },
  "ocore.api.v1.ServerService/GetServer": { access: "servers.read", scope: "server", target: serverById },
  "ocore.api.v1.ServerService/UpdateServer": {
    access: "servers.write",
    scope: "server",
    target: serverById,
    action: "server.update",
  },
  "ocore.api.v1.ServerService/ImportServers": global("servers.import", "server.import"),
  "ocore.api.v1.ServerService/ExportServers": { access: "servers.read", scope: "server" },

  // Agent channel (issue 3). GetLatestSnapshots is global until its handler filters by scope.
  "ocore.api.v1.MetricsService/GetSeries": {
    access: "metrics.read",
    scope: "server",
    target: serverByServerId,
  },
  "ocore.api.v1.MetricsService/GetLatestSnapshots": { access: "metrics.read", scope: "server" },
  "ocore.api.v1.EnrollmentTokenService/CreateEnrollmentToken": {
    access: "servers.write",
    scope: "server",
    target: serverByServerId,
    action: "server.enrollment_token.create",
  },
};
