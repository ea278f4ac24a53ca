import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { AuditFeed } from "../audit/audit-feed.js";
import { recordAudit } from "../audit/record-audit.js";
import type { Authenticator } from "../auth/authenticate.js";
import { holds, holdsEverywhere, holdsOn, type Principal } from "../auth/principal.js";
import type { Db } from "../db/database.js";
import { AppError } from "../errors/app-error.js";
import type { Logger } from "../logging/logger.js";
import { credentialsOf, unauthenticated } from "./auth-gate.js";
import { auditContextOf, authenticatedKey, principalKey, requestMetaKey } from "./request-context.js";
import { type RpcPolicy, rpcPolicies } from "./rpc-policies.js";

export interface AuthInterceptorDeps {
  readonly db: Db;
  readonly authenticator: Authenticator;
  readonly feed: AuditFeed;
  readonly logger: Logger;
  readonly policies?: Readonly<Record<string, RpcPolicy>>;
}

/**
 * Every RPC passes here: find its policy (none → refused), authenticate the caller, check the
 * permission (and the target server's tags), then call the handler. State-changing RPCs that
 * fail or are refused are audited here; their successes are audited by the handler, in the
 * transaction of the change.
 */
export function createAuthInterceptor(deps: AuthInterceptorDeps): Interceptor {
  const policies = deps.policies ?? rpcPolicies;
  return (next) => async (request) => {
    const procedure = `${request.service.typeName}/${request.method.name}`;
    const policy = policies[procedure];
    if (!policy) {
      deps.logger.error(
        { procedure },
        "RPC without an access policy refused (add it to api/rpc-policies.ts)",
      );
      throw new ConnectError(`${procedure} is not available`, Code.PermissionDenied);
    }
    const mutating = request.method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
    // The auth gate authenticated the caller before the body was read; without the gate
    // (a transport that has none) it happens here.
    const principal = request.contextValues.get(authenticatedKey)
      ? request.contextValues.get(principalKey)
      : await deps.authenticator.authenticate(
          credentialsOf(request.header, request.contextValues.get(requestMetaKey)),
        );
    request.contextValues.set(principalKey, principal);

    const audited = mutating && policy.action && !policy.auditedByHandler && principal;
    let target: unknown;
    if (request.stream && policy.target) {
      // A stream's first message names its target: read it now, hand it on to the handler after.
      const first = await firstMessage(request.message);
      target = first.message;
      request = { ...request, message: first.all };
    } else if (!request.stream) {
      target = request.message;
    }
    try {
      await authorize(policy, principal, target, deps.db);
    } catch (error) {
      if (audited && error instanceof AppError && error.code === "permission_denied") {
        await auditOutcome(
          deps.db,
          request.contextValues,
          principal,
          policy,
          target,
          "denied",
          error.message,
        );
      }
      throw error;
    }
    const auditFailure = async (error: unknown) => {
      if (!audited) return;
      const detail = error instanceof Error ? error.message : String(error);
      await auditOutcome(deps.db, request.contextValues, principal, policy, target, "failure", detail);
    };
    try {
      const response = await next(request);
      if (!response.stream) {
        if (mutating) deps.feed.poke();
        return response;
      }
      // A stream fails, or ends its work, while it is read: audit and poke the feed then.
      return {
        ...response,
        message: watchStream(response.message, auditFailure, mutating ? deps.feed : undefined),
      };
    } catch (error) {
      await auditFailure(error);
      throw error;
    }
  };
}

/** Reads a stream's first message (a refused empty stream names no target). */
async function firstMessage<T>(
  messages: AsyncIterable<T>,
): Promise<{ message: T | undefined; all: AsyncIterable<T> }> {
  const iterator = messages[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* all(): AsyncGenerator<T> {
    if (first.done) return;
    yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { message: first.done ? undefined : first.value, all: all() };
}

async function* watchStream<T>(
  messages: AsyncIterable<T>,
  onFailure: (error: unknown) => Promise<void>,
  feed: AuditFeed | undefined,
): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (error) {
    await onFailure(error);
    throw error;
  } finally {
    feed?.poke();
  }
}

async function authorize(
  policy: RpcPolicy,
  principal: Principal | undefined,
  message: unknown,
  db: Db,
): Promise<void> {
  if (policy.access === "public") return;
  if (!principal) throw unauthenticated();
  if (principal.mustChangePassword && !policy.allowDuringPasswordChange) {
    throw new AppError(
      "failed_precondition",
      "change your one-time password first (AuthService/ChangePassword)",
    );
  }
  if (policy.access === "authenticated") return;
  const permission = policy.access;
  const denied = new AppError("permission_denied", `this needs the ${permission} permission`);
  if (policy.scope === "global") {
    if (!holdsEverywhere(principal, permission)) throw denied;
    return;
  }
  if (!holds(principal, permission)) throw denied;
  if (policy.target && message !== undefined) {
    const tags = await policy.target(message, db);
    if (tags && !holdsOn(principal, permission, tags)) {
      throw new AppError("permission_denied", `this needs the ${permission} permission on this server`);
    }
  }
}

async function auditOutcome(
  db: Db,
  values: Parameters<typeof auditContextOf>[0]["values"],
  principal: Principal | undefined,
  policy: RpcPolicy,
  message: unknown,
  result: "failure" | "denied",
  detail: string,
): Promise<void> {
  const context = auditContextOf({ values } as Parameters<typeof auditContextOf>[0], principal);
  // A request that names its server in `serverId` is recorded against that server.
  const serverId = (message as { serverId?: unknown } | undefined)?.serverId;
  const named = typeof serverId === "string" && serverId !== "";
  await db.transaction((tx) =>
    recordAudit(tx, context, {
      action: policy.action ?? "unknown",
      targetType: named ? "server" : "",
      targetId: named ? serverId : "",
      result,
      detail: detail.slice(0, 1000),
    }),
  );
}
