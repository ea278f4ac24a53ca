import type { Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

// A call that has not answered after this long is reported as "did not answer"
// instead of leaving the page loading forever. Server-streaming calls added later
// must pass their own `timeoutMs`.
const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * Creates the Connect transport the console uses to call the control server.
 *
 * The control server serves this console and the Connect API on the same origin,
 * so the browser passes "/" (or `window.location.origin`) as `baseUrl`.
 */
export function createApiTransport(baseUrl: string): Transport {
  return createConnectTransport({ baseUrl, defaultTimeoutMs: DEFAULT_TIMEOUT_MS });
}
