import type { Route } from "next";

export const SIGN_IN_PATH = "/sign-in";
export const CHANGE_PASSWORD_PATH = "/change-password";

/**
 * The page to return to after signing in, from an untrusted `next` parameter: only a path on
 * this origin (no "//host", no "/\host", no scheme), never the sign-in page itself; else "/".
 */
export function safeNextPath(next: string | null | undefined): Route {
  if (!next?.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if (next === SIGN_IN_PATH || next.startsWith(`${SIGN_IN_PATH}?`)) return "/";
  return next as Route;
}

/** A page path with a `next` parameter that brings the user back to `returnTo` afterwards. */
export function withNext(path: string, returnTo: string): Route {
  const next = safeNextPath(returnTo);
  return (next === "/" ? path : `${path}?next=${encodeURIComponent(next)}`) as Route;
}
