import {
  type ContextValues,
  createContextKey,
  createContextValues,
  type HandlerContext,
} from "@connectrpc/connect";
import type { AuditContext } from "../../domain/audit/audit-context.js";
import type { Principal } from "../../domain/auth/principal.js";
import { AppError } from "../../platform/errors/app-error.js";

export interface RequestMeta {
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly secureTransport: boolean;
}

/** Set by the transport for every request. */
export const requestMetaKey = createContextKey<RequestMeta>({
  sourceIp: "",
  userAgent: "",
  secureTransport: false,
});
/** Set by the auth gate (or the auth interceptor) once the caller is known. */
export const principalKey = createContextKey<Principal | undefined>(undefined);
/** True once the auth gate authenticated the request, before its body was read. */
export const authenticatedKey = createContextKey<boolean>(false);

export function requestContextValues(meta: RequestMeta): ContextValues {
  return createContextValues().set(requestMetaKey, meta);
}

/** The authenticated caller; the interceptor guarantees one for every non-public RPC. */
export function principalOf(context: HandlerContext): Principal {
  const principal = context.values.get(principalKey);
  if (!principal) throw new AppError("unauthenticated", "sign in first");
  return principal;
}

/** Who is acting and from where, as the audit log records it. */
export function auditContextOf(
  context: HandlerContext,
  principal = context.values.get(principalKey),
): AuditContext {
  const meta = context.values.get(requestMetaKey);
  return {
    actor: principal
      ? { type: principal.kind, id: principal.id, name: principal.name }
      : { type: "user", id: "", name: "anonymous" },
    sourceIp: meta.sourceIp,
    userAgent: meta.userAgent,
  };
}
