import { createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { createCsrfInterceptor, createRefreshInterceptor } from "./session-interceptors";

// A call that has not answered after this long is reported as "did not answer"
// instead of leaving the page loading forever. Server-streaming calls added later
// must pass their own `timeoutMs`.
const DEFAULT_TIMEOUT_MS = 15_000;

const readDocumentCookies = () => (typeof document === "undefined" ? "" : document.cookie);

function createBaseTransport(baseUrl: string, interceptors: Interceptor[]): Transport {
  return createConnectTransport({ baseUrl, defaultTimeoutMs: DEFAULT_TIMEOUT_MS, interceptors });
}

/**
 * Creates the Connect transport the console uses to call the control server.
 *
 * The control server serves this console and the Connect API on the same origin,
 * so the browser passes "/" (or `window.location.origin`) as `baseUrl`. The session
 * lives in cookies: every call echoes the CSRF cookie, and an expired access cookie
 * is renewed once per failure before `onSessionEnded` sends the user to sign in.
 */
export function createApiTransport(
  baseUrl: string,
  options: { onSessionEnded?: () => void } = {},
): Transport {
  const csrf = createCsrfInterceptor(readDocumentCookies);
  const auth = createClient(AuthService, createBaseTransport(baseUrl, [csrf]));
  const refresh = createRefreshInterceptor({
    refresh: () => auth.refresh({}),
    onSessionEnded: options.onSessionEnded ?? (() => {}),
  });
  // Interceptors run outside in: the refresh retry goes through the CSRF one again and
  // so picks up the new CSRF cookie.
  return createBaseTransport(baseUrl, [refresh, csrf]);
}
