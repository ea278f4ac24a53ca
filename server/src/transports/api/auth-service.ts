import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { AuthService, CurrentUserSchema } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { eq } from "drizzle-orm";
import { recordAudit } from "../../domain/audit/record-audit.js";
import type { AccessTokens } from "../../domain/auth/access-tokens.js";
import { login } from "../../domain/auth/login.js";
import type { LoginLimiter } from "../../domain/auth/login-limiter.js";
import { allPermissions, type Principal } from "../../domain/auth/principal.js";
import { randomToken } from "../../domain/auth/secrets.js";
import { type NewSession, revokeSession, rotateSession } from "../../domain/auth/sessions.js";
import { changePassword } from "../../domain/authentication/change-password.js";
import { userPrincipal } from "../../domain/users/load-principal.js";
import { listUsers } from "../../domain/users/user-queries.js";
import type { Db } from "../../platform/db/database.js";
import { users } from "../../platform/db/schema/users.js";
import { AppError } from "../../platform/errors/app-error.js";
import { clearedSessionCookies, parseCookies, REFRESH_COOKIE, sessionCookies } from "./cookies.js";
import { auditContextOf, principalOf, requestMetaKey } from "./request-context.js";

export interface AuthServiceDeps {
  readonly db: Db;
  readonly accessTokens: AccessTokens;
  readonly limiter: LoginLimiter;
  readonly now: () => Date;
  /** Cookies get the Secure flag when the console is served over HTTPS. */
  readonly secureCookies: boolean;
}

export function createAuthService(deps: AuthServiceDeps): ServiceImpl<typeof AuthService> {
  const { db, now } = deps;

  /** Issues the access token for a session, sets the browser cookies, returns the tokens. */
  async function startSession(session: NewSession, context: HandlerContext) {
    const at = now();
    const access = await deps.accessTokens.issue(
      { userId: session.userId, sessionId: session.sessionId },
      at,
    );
    const secure = deps.secureCookies || context.values.get(requestMetaKey).secureTransport;
    const cookies = sessionCookies(
      {
        accessToken: access.token,
        accessExpiresAt: access.expiresAt,
        refreshToken: session.refreshToken,
        refreshExpiresAt: session.refreshExpiresAt,
        csrf: randomToken("", 24),
      },
      at,
      secure,
    );
    for (const cookie of cookies) context.responseHeader.append("set-cookie", cookie);
    return {
      accessToken: access.token,
      accessTokenExpiresAt: timestampFromDate(access.expiresAt),
      refreshToken: session.refreshToken,
      refreshTokenExpiresAt: timestampFromDate(session.refreshExpiresAt),
    };
  }

  async function currentUser(principal: Principal): Promise<MessageInitShape<typeof CurrentUserSchema>> {
    const view = (await listUsers(db)).find((user) => user.id === principal.id);
    return {
      id: principal.id,
      username: principal.name,
      mustChangePassword: principal.mustChangePassword,
      permissions: allPermissions(principal),
      roleBindings: (view?.roleBindings ?? []).map((binding) => ({
        ...binding,
        sshLogins: [...(binding.sshLogins ?? [])],
      })),
    };
  }

  return {
    async login(request, context) {
      const session = await login({ db, limiter: deps.limiter, now }, auditContextOf(context), {
        username: request.username.trim(),
        password: request.password,
      });
      const [user] = await db.select().from(users).where(eq(users.id, session.userId));
      if (!user) throw new AppError("internal", "the user vanished during login");
      const principal = await userPrincipal(db, user, session.sessionId);
      return { tokens: await startSession(session, context), user: await currentUser(principal) };
    },

    async refresh(request, context) {
      const token = request.refreshToken || parseCookies(context.requestHeader.get("cookie"))[REFRESH_COOKIE];
      if (!token) throw new AppError("unauthenticated", "no refresh token; sign in again");
      const audit = auditContextOf(context);
      const session = await rotateSession(db, token, audit, now(), (tx, next) =>
        recordAudit(
          tx,
          { ...audit, actor: { type: "user", id: next.userId, name: "" } },
          {
            action: "auth.refresh",
            targetType: "session",
            targetId: next.sessionId,
          },
        ).then(() => undefined),
      );
      return { tokens: await startSession(session, context) };
    },

    async logout(_request, context) {
      const principal = principalOf(context);
      await db.transaction(async (tx) => {
        if (principal.sessionId) await revokeSession(tx, principal.sessionId, now());
        await recordAudit(tx, auditContextOf(context), {
          action: "auth.logout",
          targetType: "session",
          targetId: principal.sessionId ?? "",
        });
      });
      const secure = deps.secureCookies || context.values.get(requestMetaKey).secureTransport;
      for (const cookie of clearedSessionCookies(secure)) context.responseHeader.append("set-cookie", cookie);
      return {};
    },

    async changePassword(request, context) {
      const principal = principalOf(context);
      if (principal.kind !== "user") throw new AppError("failed_precondition", "API tokens have no password");
      const session = await changePassword(
        db,
        auditContextOf(context),
        { userId: principal.id, currentPassword: request.currentPassword, newPassword: request.newPassword },
        now(),
      );
      return { tokens: await startSession(session, context) };
    },

    async getCurrentUser(_request, context) {
      return { user: await currentUser(principalOf(context)) };
    },
  };
}
