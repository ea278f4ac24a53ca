import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import {
  Code,
  ConnectError,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
} from "@connectrpc/connect";
import type { AuditFeed } from "../../domain/audit/audit-feed.js";
import type { DenialAggregator } from "../../domain/audit/denial-aggregator.js";
import { recordAudit } from "../../domain/audit/record-audit.js";
import { holds, holdsEverywhere, holdsOn, type Principal } from "../../domain/auth/principal.js";
import type { Authenticator } from "../../domain/authentication/authenticate.js";
import type { Db } from "../../platform/db/database.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";
import { credentialsOf, unauthenticated } from "./auth-gate.js";
import { auditContextOf, authenticatedKey, principalKey, requestMetaKey } from "./request-context.js";
import { requestLoggerOf, withPrincipal } from "./request-logger.js";
import { type RpcPolicy, type RpcTarget, rpcPolicies } from "./rpc-policies.js";

export interface AuthInterceptorDeps {
  readonly db: Db;
  readonly authenticator: Authenticator;
  readonly feed: AuditFeed;
  /** Audits every refused call, aggregating floods of identical ones. */
  readonly denials: DenialAggregator;
  readonly logger: Logger;
  readonly policies?: Readonly<Record<string, RpcPolicy>>;
}

/**
 * Every RPC passes here: find its policy (none → refused), authenticate the caller, check the
 * permission (and the target server's tags), then call the handler. Every refused call is
 * audited here (through the denial aggregator), and so are state-changing RPCs that fail; their
 * successes are audited by the handler, in the transaction of the change.
 */
export function createAuthInterceptor(deps: AuthInterceptorDeps): Interceptor {
  const policies = deps.policies ?? rpcPolicies;
  return (next) => async (request) => {
    const procedure = `${request.service.typeName}/${request.method.name}`;
    const policy = policies[procedure];
    if (!policy) {
      requestLoggerOf(request.contextValues, deps.logger).error(
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
    withPrincipal(request.contextValues, principal);

    const audited = mutating && policy.action && !policy.auditedByHandler && principal;
    let message: unknown;
    if (request.stream && policy.target) {
      // A stream's first message names its target: read it now, hand it on to the handler after.
      const first = await firstMessage(request.message);
      message = first.message;
      request = { ...request, message: first.all };
    } else if (!request.stream) {
      message = request.message;
    }
    // Looked up once, when first needed: by the tag check, or by an audit entry naming the server.
    let target: Promise<RpcTarget | undefined> | undefined;
    const targetOf = () => {
      target ??=
        policy.target && message !== undefined ? policy.target(message, deps.db) : Promise.resolve(undefined);
      return target;
    };
    /** For audit entries: a target that cannot be found names no server (the entry is still written). */
    const auditTarget = () => targetOf().catch(() => undefined);
    try {
      await authorize(policy, principal, targetOf);
    } catch (error) {
      if (principal && error instanceof AppError && error.code === "permission_denied") {
        const serverId = (await auditTarget())?.serverId ?? "";
        await deps.denials.record({
          key: `${principal.kind}:${principal.id}|${procedure}|${serverId}`,
          context: auditContextOf({ values: request.contextValues } as HandlerContext, principal),
          event: {
            action: policy.action ?? "access.denied",
            targetType: serverId ? "server" : "",
            targetId: serverId,
            detail: `${procedure}: ${error.message}`.slice(0, 1000),
          },
        });
        deps.feed.poke();
      }
      throw error;
    }
    const auditFailure = async (error: unknown) => {
      if (!audited) return;
      const detail = error instanceof Error ? error.message : String(error);
      await auditFailureOf(deps.db, request.contextValues, principal, policy, await auditTarget(), detail);
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
  targetOf: () => Promise<RpcTarget | undefined>,
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
  const tags = (await targetOf())?.tags;
  if (tags && !holdsOn(principal, permission, tags)) {
    throw new AppError("permission_denied", `this needs the ${permission} permission on this server`);
  }
}

/** Records a state-changing RPC that failed, against the server it concerns (if any). */
async function auditFailureOf(
  db: Db,
  values: ContextValues,
  principal: Principal | undefined,
  policy: RpcPolicy,
  target: RpcTarget | undefined,
  detail: string,
): Promise<void> {
  const context = auditContextOf({ values } as HandlerContext, principal);
  await db.transaction((tx) =>
    recordAudit(tx, context, {
      action: policy.action ?? "unknown",
      targetType: target ? "server" : "",
      targetId: target?.serverId ?? "",
      result: "failure",
      detail: detail.slice(0, 1000),
    }),
  );
}
