/**
 * POSTs a JSON body and resolves with the answer's status line; throws on no answer within
 * `timeoutMs` or a status other than 2xx (redirects included). `shown` names the target in
 * messages instead of the URL, which may carry a secret (Slack, Discord, Teams, Telegram).
 */
export async function postJson(
  url: string,
  body: unknown,
  options: { readonly shown: string; readonly timeoutMs: number; readonly headers?: Record<string, string> },
): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: { "content-type": "application/json", "user-agent": "oCore-alerts/1", ...options.headers },
      body: JSON.stringify(body),
    });
  } catch (error) {
    if ((error as Error).name === "TimeoutError")
      throw new Error(`no answer from ${options.shown} within ${options.timeoutMs} ms`);
    const cause = (error as Error & { cause?: Error }).cause;
    throw new Error(`could not reach ${options.shown}: ${cause?.message ?? (error as Error).message}`);
  }
  const text = (await response.text().catch(() => "")).slice(0, 200);
  if (response.status < 200 || response.status > 299) {
    throw new Error(`${options.shown} answered ${response.status}${text ? `: ${text}` : ""}`);
  }
  return `${options.shown} answered ${response.status}`;
}
