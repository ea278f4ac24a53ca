"use client";

import { Code } from "@connectrpc/connect";
import { useMutation } from "@connectrpc/connect-query";
import { type Role, UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import { type FormEvent, useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { SecretOnce } from "@/components/ui/secret-once";
import { TextField } from "@/components/ui/text-field";
import { type BindingDraft, RoleBindingFields } from "./role-binding-fields";

/** Creates a user with one role binding; shows the one-time password once. */
export function CreateUserForm({ roles, onCreated }: { roles: readonly Role[]; onCreated: () => void }) {
  const [username, setUsername] = useState("");
  const [binding, setBinding] = useState<BindingDraft>({ role: "viewer", selector: "" });
  const [created, setCreated] = useState<{ username: string; password: string }>();
  const create = useMutation(UserService.method.createUser, {
    onSuccess: (response) => {
      setCreated({ username: response.user?.username ?? username, password: response.oneTimePassword });
      setUsername("");
      setBinding({ role: binding.role, selector: "" });
      onCreated();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({
      username: username.trim(),
      roleBindings: [{ role: binding.role, selector: binding.selector.trim() }],
    });
  };
  const fieldError =
    create.error?.code === Code.InvalidArgument || create.error?.code === Code.AlreadyExists
      ? create.error
      : null;

  if (created) {
    return (
      <SecretOnce
        title={`${created.username} was created`}
        note="Give this one-time password to the user through a safe channel. It is shown only now; at the first sign-in the user chooses a new one."
        value={created.password}
        onDone={() => setCreated(undefined)}
        testId="user-created"
      />
    );
  }
  return (
    <form
      onSubmit={submit}
      className="grid gap-3 rounded-lg border border-line bg-surface p-4 sm:grid-cols-3 sm:items-start"
      data-testid="create-user-form"
    >
      <TextField
        label="Username"
        required
        autoCapitalize="none"
        spellCheck={false}
        value={username}
        onChange={(event) => setUsername(event.target.value)}
        data-testid="new-username"
      />
      <RoleBindingFields roles={roles} value={binding} onChange={setBinding} />
      <div className="sm:col-span-3">
        <Button type="submit" variant="primary" aria-disabled={create.isPending} data-testid="create-user">
          {create.isPending ? "Creating…" : "Create user"}
        </Button>
      </div>
      {create.error ? (
        <div className="sm:col-span-3">
          <ActionError error={fieldError ?? create.error} action="create the user" />
        </div>
      ) : null}
    </form>
  );
}
