import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { users } from "../../platform/db/schema/users.js";
import { AppError } from "../../platform/errors/app-error.js";
import { API_TOKEN_PREFIX, findLiveApiToken } from "../api-tokens/api-tokens.js";
import type { AccessTokens } from "../auth/access-tokens.js";
import type { Principal } from "../auth/principal.js";
import { constantTimeEqual } from "../auth/secrets.js";
import { parseSelector } from "../auth/selector.js";
import { isSessionLive } from "../auth/sessions.js";
import { userPrincipal } from "../users/load-principal.js";
import { getRolePermissions } from "../users/roles.js";

/** What a request presents; the transport extracts it from headers and cookies. */
export interface Credentials {
  readonly bearer?: string;
  readonly accessCookie?: string;
  readonly csrfCookie?: string;
  readonly csrfHeader?: string;
  readonly sourceIp: string;
  readonly userAgent: string;
}

export interface Authenticator {
  /** The caller, undefined when it presented nothing; throws when it presented something invalid. */
  authenticate(credentials: Credentials): Promise<Principal | undefined>;
}

const expired = () =>
  new AppError("unauthenticated", "the access token is invalid or expired; sign in or refresh");

export function createAuthenticator(deps: {
  db: Db;
  accessTokens: AccessTokens;
  now: () => Date;
}): Authenticator {
  const { db, accessTokens, now } = deps;

  async function fromAccessToken(token: string): Promise<Principal> {
    const at = now();
    const claims = await accessTokens.verify(token, at);
    if (!claims || !(await isSessionLive(db, claims.sessionId, at))) throw expired();
    const [user] = await db.select().from(users).where(eq(users.id, claims.userId));
    if (!user || user.disabled) throw expired();
    return userPrincipal(db, user, claims.sessionId);
  }

  async function fromApiToken(secret: string, credentials: Credentials): Promise<Principal> {
    const row = await findLiveApiToken(db, secret, credentials, now());
    if (!row) throw new AppError("unauthenticated", "the API token is unknown, revoked or expired");
    const permissions = (await getRolePermissions(db, [row.role])).get(row.role) ?? [];
    return {
      kind: "token",
      id: row.id,
      name: row.name,
      mustChangePassword: false,
      grants: [
        {
          permissions: new Set(permissions),
          selector: row.selector ? parseSelector(row.selector) : undefined,
        },
      ],
    };
  }

  return {
    async authenticate(credentials) {
      if (credentials.bearer) {
        return credentials.bearer.startsWith(API_TOKEN_PREFIX)
          ? fromApiToken(credentials.bearer, credentials)
          : fromAccessToken(credentials.bearer);
      }
      if (!credentials.accessCookie) return undefined;
      // Cookies are sent by the browser on its own: a request that relies on them must prove it
      // comes from our page by echoing the CSRF cookie in a header (double submit).
      if (
        !credentials.csrfCookie ||
        !credentials.csrfHeader ||
        !constantTimeEqual(credentials.csrfCookie, credentials.csrfHeader)
      ) {
        throw new AppError(
          "permission_denied",
          "missing or wrong CSRF token (x-ocore-csrf header); reload the page",
        );
      }
      return fromAccessToken(credentials.accessCookie);
    },
  };
}
