import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { readCookie } from "./cookies";

export const CSRF_COOKIE = "ocore_csrf";
export const CSRF_HEADER = "x-ocore-csrf";

/** Auth calls that must never trigger a refresh: their Unauthenticated answer is the answer. */
const NO_REFRESH_METHODS: ReadonlySet<string> = new Set(["Login", "Refresh", "Logout"]);
const AUTH_SERVICE = "ocore.api.v1.AuthService";

/**
 * Sends the CSRF cookie back as a header (double submit): the control server refuses a
 * cookie-authenticated call without it. `readCookies` returns `document.cookie`.
 */
export function createCsrfInterceptor(readCookies: () => string): Interceptor {
  return (next) => (request) => {
    const csrf = readCookie(readCookies(), CSRF_COOKIE);
    if (csrf) request.header.set(CSRF_HEADER, csrf);
    return next(request);
  };
}

/**
 * On an Unauthenticated answer, renews the 15-minute access cookie with the refresh cookie
 * once and repeats the call. When that fails the session is over: `onSessionEnded` runs
 * and the caller gets the original error.
 *
 * Calls that fail together share one Refresh: the server rotates the refresh token, and a
 * second Refresh with the old one would be refused.
 */
export function createRefreshInterceptor(options: {
  refresh: () => Promise<unknown>;
  onSessionEnded: () => void;
}): Interceptor {
  let pending: Promise<boolean> | undefined;
  const refreshOnce = () => {
    pending ??= options.refresh().then(
      () => true,
      () => false,
    );
    const current = pending;
    void current.finally(() => {
      if (pending === current) pending = undefined;
    });
    return current;
  };

  return (next) => async (request) => {
    const exempt = request.service.typeName === AUTH_SERVICE && NO_REFRESH_METHODS.has(request.method.name);
    try {
      return await next(request);
    } catch (error) {
      const unauthenticated = ConnectError.from(error).code === Code.Unauthenticated;
      if (!unauthenticated || exempt || request.stream) throw error;
      if (!(await refreshOnce())) {
        options.onSessionEnded();
        throw error;
      }
      return next(request);
    }
  };
}
