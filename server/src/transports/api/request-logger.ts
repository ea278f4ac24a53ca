import { randomUUID } from "node:crypto";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  type Interceptor,
} from "@connectrpc/connect";
import type { Principal } from "../../domain/auth/principal.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Logger } from "../../platform/logging/logger.js";

/** The logger of one API call: its request id, procedure and (once known) principal on every line. */
export const requestLoggerKey = createContextKey<Logger | undefined>(undefined);

/** The call's own logger (`fallback` outside a call, e.g. in tests that skip the interceptor). */
export function requestLoggerOf(values: ContextValues, fallback: Logger): Logger {
  return values.get(requestLoggerKey) ?? fallback;
}

/** Adds the authenticated caller to the call's logger. */
export function withPrincipal(values: ContextValues, principal: Principal | undefined): void {
  const logger = values.get(requestLoggerKey);
  if (!logger || !principal) return;
  values.set(requestLoggerKey, logger.child({ principal: `${principal.kind}:${principal.name}` }));
}

/** A request id the client sent (`x-request-id`), when it is a sane one. */
function clientRequestId(value: string | null): string | undefined {
  return value && /^[\w.:-]{1,64}$/.test(value) ? value : undefined;
}

/**
 * Outermost interceptor: gives every API call a child logger (request id, procedure; the auth
 * interceptor adds the principal) that the API's own log lines use, and logs each call's end at
 * debug level with its duration and code. The request id is echoed in `x-request-id`.
 */
export function createRequestLogInterceptor(logger: Logger): Interceptor {
  return (next) => async (request) => {
    const requestId = clientRequestId(request.header.get("x-request-id")) ?? randomUUID();
    const procedure = `${request.service.typeName}/${request.method.name}`;
    request.contextValues.set(requestLoggerKey, logger.child({ requestId, procedure }));
    const started = performance.now();
    const ended = (error?: unknown) => {
      const log = request.contextValues.get(requestLoggerKey) ?? logger;
      const ms = Math.round(performance.now() - started);
      if (error === undefined) log.debug({ ms }, "API call answered");
      else log.debug({ ms, code: codeOf(error) }, "API call refused or failed");
    };
    try {
      const response = await next(request);
      response.header.set("x-request-id", requestId);
      if (!response.stream) {
        ended();
        return response;
      }
      return { ...response, message: logStreamEnd(response.message, ended) };
    } catch (error) {
      ended(error);
      throw error;
    }
  };
}

function codeOf(error: unknown): string {
  if (error instanceof AppError) return error.code;
  return Code[ConnectError.from(error).code] ?? "unknown";
}

async function* logStreamEnd<T>(
  messages: AsyncIterable<T>,
  ended: (error?: unknown) => void,
): AsyncGenerator<T> {
  try {
    yield* messages;
    ended();
  } catch (error) {
    ended(error);
    throw error;
  }
}
