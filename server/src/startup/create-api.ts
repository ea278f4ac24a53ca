import type { ContextValues, Interceptor } from "@connectrpc/connect";
import { createApiTokenService } from "../api/api-token-service.js";
import { createAuditService } from "../api/audit-service.js";
import { createAuthInterceptor } from "../api/auth-interceptor.js";
import { createAuthService } from "../api/auth-service.js";
import { createEnrollmentTokenService } from "../api/enrollment-token-service.js";
import { createErrorInterceptor } from "../api/error-interceptor.js";
import { createMetricsService } from "../api/metrics-service.js";
import { requestContextValues } from "../api/request-context.js";
import type { ApiServices } from "../api/routes.js";
import { createServerService } from "../api/server-service.js";
import { createSystemService } from "../api/system-service.js";
import { createUserService } from "../api/user-service.js";
import { type AuditFeed, createAuditFeed } from "../audit/audit-feed.js";
import { createAccessTokens } from "../auth/access-tokens.js";
import { createAuthenticator } from "../auth/authenticate.js";
import { createLoginLimiter } from "../auth/login-limiter.js";
import type { Db } from "../db/database.js";
import type { RequestHandler } from "../http/http-server.js";
import type { Logger } from "../logging/logger.js";
import type { MetricsRetention } from "../metrics/rollups.js";
import type { SystemInfo } from "../system/system-info.js";

export interface ApiDeps {
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => Date;
  /** 32+ bytes that sign access tokens (derived from the master key). */
  readonly accessTokenKey: Uint8Array;
  readonly secureCookies: boolean;
  readonly getSystemInfo: () => Promise<SystemInfo>;
  readonly metricsRetention: MetricsRetention;
  /** What enrollment tokens carry and point to: the CA pin and the gateway address. */
  readonly enrollment: { readonly caPin: string; readonly gatewayAddress: string };
}

export interface Api {
  readonly services: ApiServices;
  readonly interceptors: Interceptor[];
  readonly contextValues: (request: Parameters<RequestHandler>[0]) => ContextValues;
  readonly feed: AuditFeed;
}

/** The Connect API: its services, and the interceptors every call passes (errors, then auth). */
export function createApi(deps: ApiDeps): Api {
  const { db, logger, now } = deps;
  const feed = createAuditFeed(db);
  const accessTokens = createAccessTokens(deps.accessTokenKey);
  const authenticator = createAuthenticator({ db, accessTokens, now });
  return {
    services: {
      system: createSystemService({ getSystemInfo: deps.getSystemInfo }),
      auth: createAuthService({
        db,
        accessTokens,
        limiter: createLoginLimiter(),
        now,
        secureCookies: deps.secureCookies,
      }),
      users: createUserService({ db }),
      apiTokens: createApiTokenService({ db, now }),
      audit: createAuditService({ db, feed }),
      servers: createServerService({ db }),
      metrics: createMetricsService({ db, retention: deps.metricsRetention, now }),
      enrollmentTokens: createEnrollmentTokenService({ db, now, ...deps.enrollment }),
    },
    interceptors: [
      createErrorInterceptor(logger),
      createAuthInterceptor({ db, authenticator, feed, logger }),
    ],
    feed,
    contextValues: (request) =>
      requestContextValues({
        sourceIp: request.socket?.remoteAddress ?? "",
        userAgent: String(request.headers["user-agent"] ?? ""),
        secureTransport:
          "encrypted" in (request.socket ?? {}) &&
          Boolean((request.socket as { encrypted?: boolean }).encrypted),
      }),
  };
}
