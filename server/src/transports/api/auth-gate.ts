import type { HandlerContext } from "@connectrpc/connect";
import type { Principal } from "../../domain/auth/principal.js";
import type { Authenticator, Credentials } from "../../domain/authentication/authenticate.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import { ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER, parseCookies } from "./cookies.js";
import { toConnectError } from "./error-interceptor.js";
import { authenticatedKey, principalKey, type RequestMeta, requestMetaKey } from "./request-context.js";
import { type RpcPolicy, rpcPolicies } from "./rpc-policies.js";

/** What a request presents to prove who calls: bearer token, or session cookie with its CSRF pair. */
export function credentialsOf(header: Headers, meta: RequestMeta): Credentials {
  const cookies = parseCookies(header.get("cookie"));
  const authorization = header.get("authorization") ?? "";
  return {
    bearer: /^Bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined,
    accessCookie: cookies[ACCESS_COOKIE],
    csrfCookie: cookies[CSRF_COOKIE],
    csrfHeader: header.get(CSRF_HEADER) ?? undefined,
    sourceIp: meta.sourceIp,
    userAgent: meta.userAgent,
  };
}

export function unauthenticated(): AppError {
  return new AppError("unauthenticated", "sign in first, or send an API token as Authorization: Bearer");
}

/**
 * Runs when a request's headers are in and before its body is read: the caller is
 * authenticated here, so an anonymous caller of a non-public RPC is refused without the server
 * reading (or parsing) what it sent. The auth interceptor uses the principal found here.
 */
export function createAuthGate(deps: {
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  readonly policies?: Readonly<Record<string, RpcPolicy>>;
}): (context: HandlerContext) => Promise<void> {
  const policies = deps.policies ?? rpcPolicies;
  return async (context) => {
    const policy = policies[`${context.service.typeName}/${context.method.name}`];
    // An RPC without a policy is refused by the interceptor, which logs it.
    if (!policy) return;
    let principal: Principal | undefined;
    try {
      principal = await deps.authenticator.authenticate(
        credentialsOf(context.requestHeader, context.values.get(requestMetaKey)),
      );
    } catch (error) {
      if (error instanceof AppError) throw toConnectError(error);
      deps.logger.error({ err: error, procedure: context.url }, "authentication failed unexpectedly");
      throw toConnectError(new AppError("internal", "internal error; the server log has the details"));
    }
    context.values.set(principalKey, principal);
    context.values.set(authenticatedKey, true);
    if (policy.access !== "public" && !principal) throw toConnectError(unauthenticated());
  };
}
