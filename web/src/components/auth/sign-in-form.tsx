"use client";

import { create } from "@bufbuild/protobuf";
import { useMutation } from "@connectrpc/connect-query";
import { AuthService, GetCurrentUserResponseSchema } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";
import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import { describeLoginError } from "@/lib/auth-errors";
import { CHANGE_PASSWORD_PATH, safeNextPath, withNext } from "@/lib/auth-paths";
import { useCurrentUserKey } from "./current-user";
import { FormError } from "./form-error";

/** Username and password; on success goes to the page the user came from, or to the password change. */
export function SignInForm() {
  const router = useRouter();
  const queryClient = useQueryClient();
  const currentUserKey = useCurrentUserKey();
  const login = useMutation(AuthService.method.login, {
    onSuccess: ({ user }) => {
      // A previous session's data must not show; the guard then needs no extra call.
      queryClient.clear();
      queryClient.setQueryData(currentUserKey, create(GetCurrentUserResponseSchema, { user }));
      const next = safeNextPath(new URLSearchParams(window.location.search).get("next"));
      router.replace(user?.mustChangePassword ? withNext(CHANGE_PASSWORD_PATH, next) : next);
    },
  });
  const busy = login.isPending || login.isSuccess;

  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        event.preventDefault();
        if (busy) return;
        const form = new FormData(event.currentTarget);
        login.mutate({ username: String(form.get("username")), password: String(form.get("password")) });
      }}
    >
      <h1 className="text-lg font-semibold">Sign in</h1>
      <FormError message={login.error ? describeLoginError(login.error) : undefined} />
      <TextField
        label="Username"
        name="username"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        required
        autoFocus
      />
      <TextField label="Password" name="password" type="password" autoComplete="current-password" required />
      <Button type="submit" variant="primary" aria-disabled={busy} className="w-full">
        {busy ? "Signing in…" : "Sign in"}
      </Button>
      <p className="text-sm text-ink-muted">
        First start? The control server printed a one-time password for{" "}
        <code className="font-mono">admin</code> in its log.
      </p>
    </form>
  );
}
