"use client";

import { Code } from "@connectrpc/connect";
import { usePathname, useRouter } from "next/navigation";
import { type ReactNode, useEffect, useSyncExternalStore } from "react";
import { ApiErrorAlert } from "@/components/system/api-error-alert";
import { CHANGE_PASSWORD_PATH, SIGN_IN_PATH, withNext } from "@/lib/auth-paths";
import { readCookie } from "@/lib/cookies";
import { CSRF_COOKIE } from "@/lib/session-interceptors";
import { useCurrentUser } from "./current-user";

const noSubscription = () => () => {};
// The CSRF cookie lives as long as the session (the access cookie is HttpOnly): without
// it there is nothing to refresh, so the guard goes to sign-in without asking the server.
const hasSessionCookie = () => readCookie(document.cookie, CSRF_COOKIE) !== undefined;
const unknownOnServer = () => undefined;

type AuthGuardProps = {
  children: ReactNode;
  /** The change-password page itself is allowed while the password must be changed. */
  allowPasswordChange?: boolean;
};

/** Shows its children to a signed-in user; sends everyone else to sign in or change the password first. */
export function AuthGuard({ children, allowPasswordChange = false }: AuthGuardProps) {
  const router = useRouter();
  const pathname = usePathname();
  const hasCookie = useSyncExternalStore(noSubscription, hasSessionCookie, unknownOnServer);
  const current = useCurrentUser(hasCookie === true);
  const user = current.data?.user;
  const signedOut = hasCookie === false || current.error?.code === Code.Unauthenticated;
  const mustChange = user?.mustChangePassword === true && !allowPasswordChange;

  useEffect(() => {
    const here = pathname + window.location.search;
    if (signedOut) router.replace(withNext(SIGN_IN_PATH, here));
    else if (mustChange) router.replace(withNext(CHANGE_PASSWORD_PATH, here));
  }, [signedOut, mustChange, pathname, router]);

  const ready = user !== undefined && !signedOut && !mustChange;
  // With a session cookie the check almost always passes: the page mounts hidden meanwhile, so its
  // own data requests run alongside the check instead of after it (one round trip less on a first
  // load). The API enforces access either way, and nothing shows until the check has passed.
  const mountEarly = hasCookie === true && !signedOut && !mustChange;
  if (current.error && !signedOut) {
    return (
      <div className="mx-auto max-w-lg p-6">
        <ApiErrorAlert
          error={current.error}
          retrying={current.isFetching}
          onRetry={() => void current.refetch()}
          staleData={false}
          testId="session-error"
          retryTestId="session-retry"
        />
      </div>
    );
  }
  return (
    <>
      {ready ? null : (
        <div
          role="status"
          aria-busy="true"
          className="grid min-h-40 place-items-center p-6 text-sm text-ink-muted"
        >
          Checking your session…
        </div>
      )}
      {ready || mountEarly ? (
        <div style={{ display: ready ? "contents" : "none" }} aria-hidden={ready ? undefined : true}>
          {children}
        </div>
      ) : null}
    </>
  );
}
