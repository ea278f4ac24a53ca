"use client";

import { useMutation } from "@connectrpc/connect-query";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import { describePasswordChangeError } from "@/lib/auth-errors";
import { safeNextPath } from "@/lib/auth-paths";
import { checkNewPassword, MIN_PASSWORD_LENGTH } from "@/lib/password-rules";
import { useCurrentUser, useCurrentUserKey } from "./current-user";
import { FormError } from "./form-error";

/** Replaces the password; forced after a one-time password, else reached from the user menu. */
export function ChangePasswordForm() {
  const router = useRouter();
  const queryClient = useQueryClient();
  const currentUserKey = useCurrentUserKey();
  const forced = useCurrentUser().data?.user?.mustChangePassword === true;
  const [problem, setProblem] = useState<string>();
  const change = useMutation(AuthService.method.changePassword, {
    onSuccess: async () => {
      await queryClient.refetchQueries({ queryKey: currentUserKey });
      router.replace(safeNextPath(new URLSearchParams(window.location.search).get("next")));
    },
    onError: (error) => setProblem(describePasswordChangeError(error)),
  });
  const busy = change.isPending || change.isSuccess;

  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        if (busy) return;
        const form = new FormData(event.currentTarget);
        const currentPassword = String(form.get("current"));
        const newPassword = String(form.get("new"));
        const refused = checkNewPassword(currentPassword, newPassword, String(form.get("confirm")));
        setProblem(refused);
        if (!refused) change.mutate({ currentPassword, newPassword });
      }}
    >
      <h1 className="text-lg font-semibold">{forced ? "Choose your password" : "Change password"}</h1>
      {forced ? (
        <p className="text-sm text-ink-muted">
          You signed in with a one-time password. Choose your own before you continue.
        </p>
      ) : null}
      <FormError message={problem} />
      <TextField
        label={forced ? "One-time password" : "Current password"}
        name="current"
        type="password"
        autoComplete="current-password"
        required
        autoFocus
      />
      <TextField
        label="New password"
        name="new"
        type="password"
        autoComplete="new-password"
        minLength={MIN_PASSWORD_LENGTH}
        hint={`At least ${MIN_PASSWORD_LENGTH} characters; a few unrelated words are easy to type.`}
        required
      />
      <TextField
        label="Repeat the new password"
        name="confirm"
        type="password"
        autoComplete="new-password"
        required
      />
      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" variant="primary" aria-disabled={busy} className="flex-1">
          {busy ? "Saving…" : "Save password"}
        </Button>
        {forced ? null : (
          <Link href="/" className="rounded-md px-3 py-1.5 text-sm font-medium text-ink-muted hover:text-ink">
            Cancel
          </Link>
        )}
      </div>
    </form>
  );
}
