import type { Permission } from "./permissions.js";
import { matchesSelector, type Selector, type Tags } from "./selector.js";

/** A set of permissions held on every server, or only on servers matching `selector`. */
export interface Grant {
  readonly permissions: ReadonlySet<Permission>;
  /** undefined: on every server (and for permissions that are not about servers). */
  readonly selector: Selector | undefined;
  /** Host accounts the SSH gateway may use under this grant ("*": any); empty or unset: the server's SSH user. */
  readonly sshLogins?: readonly string[];
}

/** Who is calling, and what they may do. Built per request from the database, never from the request. */
export interface Principal {
  readonly kind: "user" | "token";
  /** The user id, or the API token id. */
  readonly id: string;
  /** The username, or the token's name. */
  readonly name: string;
  readonly mustChangePassword: boolean;
  /** The session a user's access token belongs to. */
  readonly sessionId?: string;
  readonly grants: readonly Grant[];
}

/** Where a permission holds: everywhere, or on servers matching any of the selectors. */
export type Scope = { readonly all: true } | { readonly all: false; readonly selectors: readonly Selector[] };

export function scopeOf(principal: Principal, permission: Permission): Scope {
  const selectors: Selector[] = [];
  for (const grant of principal.grants) {
    if (!grant.permissions.has(permission)) continue;
    if (!grant.selector || grant.selector.requirements.length === 0) return { all: true };
    selectors.push(grant.selector);
  }
  return { all: false, selectors };
}

/** Holds the permission somewhere (on some servers at least). */
export function holds(principal: Principal, permission: Permission): boolean {
  return principal.grants.some((grant) => grant.permissions.has(permission));
}

/** Holds the permission on a server with these tags. */
export function holdsOn(principal: Principal, permission: Permission, tags: Tags): boolean {
  const scope = scopeOf(principal, permission);
  return scope.all || scope.selectors.some((selector) => matchesSelector(selector, tags));
}

/** Holds the permission on every server (for permissions that are not about servers). */
export function holdsEverywhere(principal: Principal, permission: Permission): boolean {
  return scopeOf(principal, permission).all;
}

export function allPermissions(principal: Principal): Permission[] {
  return [...new Set(principal.grants.flatMap((grant) => [...grant.permissions]))].sort();
}
