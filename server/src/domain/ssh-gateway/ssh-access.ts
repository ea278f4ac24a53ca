import { asc, eq, or } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Permission } from "../auth/permissions.js";
import { holdsOn, type Principal } from "../auth/principal.js";
import { matchesSelector, type Tags } from "../auth/selector.js";

export type ServerRow = typeof servers.$inferSelect;

/** Statuses in which a server has an installed agent to tunnel through. */
const REACHABLE = new Set(["active", "offline"]);

/** The same answer for a server that does not exist and one the caller may not reach (no leak). */
export const unknownOrForbidden = (name: string) =>
  new AppError("permission_denied", `no server "${name}" that you may reach over SSH`);

/**
 * Where a principal may go: the server (by name or id) and the login, checked against
 * `servers.ssh` on the server's tags and the logins of the bindings that grant it.
 */
export async function resolveSshTarget(
  db: Db,
  principal: Principal,
  target: { server: string; login: string | undefined },
): Promise<{ server: ServerRow; login: string }> {
  const condition = isUuid(target.server)
    ? or(eq(servers.id, target.server), eq(servers.name, target.server))
    : eq(servers.name, target.server);
  const [server] = await db.select().from(servers).where(condition);
  if (!server || !holdsOn(principal, "servers.ssh", server.tags)) throw unknownOrForbidden(target.server);
  const login = target.login ?? server.sshUser;
  const allowed = allowedLogins(principal, "servers.ssh", server);
  if (!allowed.any && !allowed.logins.includes(login)) {
    throw new AppError(
      "permission_denied",
      `you may not log in to ${server.name} as "${login}"; your roles allow: ${allowed.logins.join(", ") || "none"}`,
    );
  }
  if (!REACHABLE.has(server.status)) {
    throw new AppError(
      "failed_precondition",
      `${server.name} is ${server.status}; the SSH gateway reaches a server once its agent is installed`,
    );
  }
  return { server, login };
}

/** The logins the grants holding `permission` on this server allow. */
export function allowedLogins(
  principal: Principal,
  permission: Permission,
  server: { sshUser: string; tags: Tags },
): { any: boolean; logins: string[] } {
  const logins = new Set<string>();
  for (const grant of principal.grants) {
    if (!grant.permissions.has(permission)) continue;
    if (grant.selector && !matchesSelector(grant.selector, server.tags)) continue;
    const listed = grant.sshLogins ?? [];
    if (listed.includes("*")) return { any: true, logins: [] };
    if (listed.length === 0) logins.add(server.sshUser);
    for (const login of listed) logins.add(login);
  }
  return { any: false, logins: [...logins].sort() };
}

/**
 * The check of every new channel: the principal (reloaded) still holds `servers.ssh` on the
 * server and may still use the login. Throws the refusal otherwise.
 */
export function assertStillAllowed(principal: Principal | undefined, server: ServerRow, login: string): void {
  if (!principal || !holdsOn(principal, "servers.ssh", server.tags)) throw unknownOrForbidden(server.name);
  const allowed = allowedLogins(principal, "servers.ssh", server);
  if (!allowed.any && !allowed.logins.includes(login)) {
    throw new AppError("permission_denied", `you may no longer log in to ${server.name} as "${login}"`);
  }
}

/** True when a forwarding is allowed on this server (`servers.ssh.forward` on its tags). */
export function mayForward(principal: Principal, server: { tags: Tags }): boolean {
  return holdsOn(principal, "servers.ssh.forward", server.tags);
}

/** The servers the picker offers: those the principal may reach, by name (at most `limit`). */
export async function listSshServers(
  db: Db,
  principal: Principal,
  limit = 200,
): Promise<Array<{ id: string; name: string; status: string; sshUser: string }>> {
  const rows = await db
    .select({
      id: servers.id,
      name: servers.name,
      status: servers.status,
      tags: servers.tags,
      sshUser: servers.sshUser,
    })
    .from(servers)
    .orderBy(asc(servers.name));
  return rows
    .filter((row) => REACHABLE.has(row.status) && holdsOn(principal, "servers.ssh", row.tags))
    .slice(0, limit)
    .map(({ id, name, status, sshUser }) => ({ id, name, status, sshUser }));
}

/**
 * The logins the principal may choose from on a server (for the console terminal's login
 * picker): the server's SSH user first when allowed. `any`: a binding allows every login.
 * Throws the same refusal as resolveSshTarget for a server that is unknown or out of reach.
 */
export async function sshLoginChoices(
  db: Db,
  principal: Principal,
  serverRef: string,
): Promise<{ serverName: string; defaultLogin: string; logins: string[]; any: boolean }> {
  const condition = isUuid(serverRef)
    ? or(eq(servers.id, serverRef), eq(servers.name, serverRef))
    : eq(servers.name, serverRef);
  const [server] = await db.select().from(servers).where(condition);
  if (!server || !holdsOn(principal, "servers.ssh", server.tags)) throw unknownOrForbidden(serverRef);
  const allowed = allowedLogins(principal, "servers.ssh", server);
  const logins = allowed.any
    ? [server.sshUser]
    : [
        ...allowed.logins.filter((login) => login === server.sshUser),
        ...allowed.logins.filter((login) => login !== server.sshUser),
      ];
  return { serverName: server.name, defaultLogin: server.sshUser, logins, any: allowed.any };
}
