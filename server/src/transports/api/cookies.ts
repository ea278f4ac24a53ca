import { parseCookie, stringifySetCookie } from "cookie";

export const ACCESS_COOKIE = "ocore_access";
export const REFRESH_COOKIE = "ocore_refresh";
export const CSRF_COOKIE = "ocore_csrf";
export const CSRF_HEADER = "x-ocore-csrf";
/** The refresh cookie only travels to the auth service. */
const REFRESH_PATH = "/ocore.api.v1.AuthService/";

/** The request's cookies by name (the first of a repeated name; a value that is not valid %-encoding stays as sent). */
export function parseCookies(header: string | null): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const [name, value] of Object.entries(parseCookie(header ?? ""))) {
    if (name !== "" && value !== undefined) cookies[name] = value;
  }
  return cookies;
}

interface CookieOptions {
  readonly maxAgeSeconds: number;
  readonly httpOnly: boolean;
  readonly secure: boolean;
  readonly path?: string;
}

export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  return stringifySetCookie({
    name,
    value,
    path: options.path ?? "/",
    maxAge: Math.max(0, Math.floor(options.maxAgeSeconds)),
    sameSite: "strict",
    httpOnly: options.httpOnly,
    secure: options.secure,
  });
}

/** The three cookies of a browser session: access (HttpOnly), refresh (HttpOnly, auth path only), CSRF. */
export function sessionCookies(
  session: {
    accessToken: string;
    accessExpiresAt: Date;
    refreshToken: string;
    refreshExpiresAt: Date;
    csrf: string;
  },
  now: Date,
  secure: boolean,
): string[] {
  const seconds = (until: Date) => (until.getTime() - now.getTime()) / 1000;
  return [
    serializeCookie(ACCESS_COOKIE, session.accessToken, {
      maxAgeSeconds: seconds(session.accessExpiresAt),
      httpOnly: true,
      secure,
    }),
    serializeCookie(REFRESH_COOKIE, session.refreshToken, {
      maxAgeSeconds: seconds(session.refreshExpiresAt),
      httpOnly: true,
      secure,
      path: REFRESH_PATH,
    }),
    serializeCookie(CSRF_COOKIE, session.csrf, {
      maxAgeSeconds: seconds(session.refreshExpiresAt),
      httpOnly: false,
      secure,
    }),
  ];
}

export function clearedSessionCookies(secure: boolean): string[] {
  return [
    serializeCookie(ACCESS_COOKIE, "", { maxAgeSeconds: 0, httpOnly: true, secure }),
    serializeCookie(REFRESH_COOKIE, "", { maxAgeSeconds: 0, httpOnly: true, secure, path: REFRESH_PATH }),
    serializeCookie(CSRF_COOKIE, "", { maxAgeSeconds: 0, httpOnly: false, secure }),
  ];
}
