import type { APIRequestContext, BrowserContext } from "playwright-core";
import type { ControlServer } from "./control-server.js";

export const ADMIN = "admin";
/** The password the tests give the first admin in place of its one-time password. */
export const ADMIN_PASSWORD = "correct horse battery staple";

/** The first admin's one-time password, which the server writes once on its first start. */
export function firstAdminPassword(server: ControlServer): string {
  const password = server.firstAdminPassword();
  if (!/^\S{12,}$/.test(password)) throw new Error(`no one-time password:\n${server.stderr()}`);
  return password;
}

/**
 * Calls a unary RPC with the Connect JSON protocol and the context's session cookies, echoing
 * the CSRF cookie as the console does. Throws with the server's answer when it is an error.
 */
export async function callApi(
  context: BrowserContext,
  baseUrl: string,
  path: string,
  body: unknown,
): Promise<unknown> {
  const csrf = (await context.cookies(baseUrl)).find((cookie) => cookie.name === "ocore_csrf")?.value;
  const request: APIRequestContext = context.request;
  const response = await request.post(new URL(path, baseUrl).toString(), {
    data: body,
    headers: { "content-type": "application/json", ...(csrf ? { "x-ocore-csrf": csrf } : {}) },
  });
  const answer: unknown = await response.json();
  if (!response.ok()) throw new Error(`${path} answered ${response.status()}: ${JSON.stringify(answer)}`);
  return answer;
}

/** Signs the first admin in through the API and replaces its one-time password; the context keeps the cookies. */
export async function signInFirstAdmin(context: BrowserContext, server: ControlServer): Promise<void> {
  const oneTime = firstAdminPassword(server);
  await callApi(context, server.url, "/ocore.api.v1.AuthService/Login", {
    username: ADMIN,
    password: oneTime,
  });
  await callApi(context, server.url, "/ocore.api.v1.AuthService/ChangePassword", {
    currentPassword: oneTime,
    newPassword: ADMIN_PASSWORD,
  });
}
