"use client";

import { useMutation } from "@connectrpc/connect-query";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import Link from "next/link";
import { useEffect, useId, useRef, useState } from "react";
import { useCurrentUser } from "@/components/auth/current-user";
import { SIGN_IN_PATH } from "@/lib/auth-paths";

const ITEM =
  "block w-full rounded px-3 py-1.5 text-left text-sm hover:bg-surface-muted focus-visible:bg-surface-muted";

/** The signed-in user's name, opening a menu to change the password or sign out. */
export function UserMenu() {
  const username = useCurrentUser().data?.user?.username;
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const root = useRef<HTMLDivElement>(null);
  const logout = useMutation(AuthService.method.logout, {
    // A full load drops everything the session left in memory; on failure the sign-in page still works.
    onSettled: () => window.location.assign(SIGN_IN_PATH),
  });

  useEffect(() => {
    if (!open) return;
    const close = (event: Event) => {
      if (
        event instanceof KeyboardEvent
          ? event.key === "Escape"
          : !root.current?.contains(event.target as Node)
      ) {
        setOpen(false);
        if (event instanceof KeyboardEvent) root.current?.querySelector("button")?.focus();
      }
    };
    document.addEventListener("keydown", close);
    document.addEventListener("pointerdown", close);
    return () => {
      document.removeEventListener("keydown", close);
      document.removeEventListener("pointerdown", close);
    };
  }, [open]);

  return (
    <div ref={root} className="relative">
      <button
        type="button"
        aria-expanded={open}
        aria-controls={menuId}
        data-testid="user-menu"
        onClick={() => setOpen(!open)}
        className="flex items-center gap-2 rounded-md border border-line px-2.5 py-1 text-sm font-medium hover:bg-surface-muted"
      >
        <span
          aria-hidden="true"
          className="grid size-5 place-items-center rounded-full bg-accent text-xs text-accent-ink"
        >
          {username?.charAt(0).toUpperCase() ?? "?"}
        </span>
        <span className="sr-only">Account: </span>
        <span className="max-w-32 truncate">{username ?? "…"}</span>
      </button>
      {open ? (
        <div
          id={menuId}
          className="absolute right-0 z-20 mt-1 w-48 space-y-0.5 rounded-md border border-line bg-surface p-1 shadow-lg"
        >
          <Link href="/account" className={ITEM} onClick={() => setOpen(false)} data-testid="account-link">
            Account and SSH keys
          </Link>
          <Link href="/change-password" className={ITEM} onClick={() => setOpen(false)}>
            Change password
          </Link>
          <button
            type="button"
            className={ITEM}
            data-testid="sign-out"
            aria-disabled={logout.isPending}
            onClick={() => logout.isPending || logout.mutate({})}
          >
            {logout.isPending ? "Signing out…" : "Sign out"}
          </button>
        </div>
      ) : null}
    </div>
  );
}
