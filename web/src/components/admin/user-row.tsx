"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useMutation } from "@connectrpc/connect-query";
import { type Role, type User, UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import { type FormEvent, useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { SecretOnce } from "@/components/ui/secret-once";
import { BindingChip, type BindingDraft, RoleBindingFields } from "./role-binding-fields";

function statusOf(user: User, now: Date): string {
  if (user.disabled) return "Disabled";
  if (user.lockedUntil && timestampDate(user.lockedUntil) > now) return "Locked (too many failed sign-ins)";
  if (user.mustChangePassword) return "Must change password";
  return "Active";
}

/** One user with its role bindings and actions: edit roles, disable, reset password, delete. */
export function UserRow({
  user,
  roles,
  isSelf,
  onChanged,
}: {
  user: User;
  roles: readonly Role[];
  isSelf: boolean;
  onChanged: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<BindingDraft>({ role: roles[0]?.name ?? "viewer", selector: "" });
  const [confirm, setConfirm] = useState<"delete" | "reset">();
  const [password, setPassword] = useState<string>();
  const options = { onSuccess: onChanged };
  const update = useMutation(UserService.method.updateUser, options);
  const reset = useMutation(UserService.method.resetUserPassword, {
    onSuccess: (response) => {
      setConfirm(undefined);
      setPassword(response.oneTimePassword);
      onChanged();
    },
  });
  const remove = useMutation(UserService.method.deleteUser, {
    onSuccess: () => {
      setConfirm(undefined);
      onChanged();
    },
  });
  const bindings = user.roleBindings.map((b) => ({ role: b.role, selector: b.selector }));
  const setBindings = (next: BindingDraft[]) =>
    update.mutate({ id: user.id, roleBindings: next, replaceRoleBindings: true });
  const addBinding = (event: FormEvent) => {
    event.preventDefault();
    setBindings([...bindings, { role: draft.role, selector: draft.selector.trim() }]);
  };
  const error = update.error ?? reset.error ?? remove.error;

  return (
    <li className="space-y-3 p-4" data-testid="user-row">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0 space-y-1">
          <p className="font-medium" data-testid="user-name">
            {user.username}
            {isSelf ? <span className="ml-2 text-xs font-normal text-ink-muted">(you)</span> : null}
          </p>
          <p className="text-xs text-ink-muted" data-testid="user-status">
            {statusOf(user, new Date())}
          </p>
          <ul aria-label="Roles" className="flex flex-wrap gap-1">
            {bindings.length === 0 ? (
              <li className="text-xs text-ink-muted">No roles: this user can see nothing.</li>
            ) : null}
            {bindings.map((binding, index) => (
              <BindingChip
                key={`${binding.role}|${binding.selector}`}
                {...binding}
                onRemove={editing ? () => setBindings(bindings.filter((_, i) => i !== index)) : undefined}
              />
            ))}
          </ul>
        </div>
        <div className="flex flex-wrap gap-2">
          <Button
            onClick={() => setEditing((open) => !open)}
            aria-expanded={editing}
            data-testid="edit-roles"
          >
            {editing ? "Close" : "Edit roles"}
          </Button>
          {isSelf ? null : (
            <>
              <Button
                onClick={() => update.mutate({ id: user.id, disabled: !user.disabled })}
                aria-disabled={update.isPending}
                data-testid="toggle-disabled"
              >
                {user.disabled ? "Enable" : "Disable"}
              </Button>
              <Button onClick={() => setConfirm("reset")}>Reset password</Button>
              <Button onClick={() => setConfirm("delete")}>Delete</Button>
            </>
          )}
        </div>
      </div>
      {editing ? (
        <form
          onSubmit={addBinding}
          className="grid gap-3 rounded-md border border-line p-3 sm:grid-cols-[1fr_2fr_auto] sm:items-start"
        >
          <RoleBindingFields roles={roles} value={draft} onChange={setDraft} />
          <Button
            type="submit"
            className="sm:mt-6"
            aria-disabled={update.isPending}
            data-testid="add-binding"
          >
            Add role
          </Button>
        </form>
      ) : null}
      {password ? (
        <SecretOnce
          title={`New one-time password for ${user.username}`}
          note="It is shown only now. The user's sessions were ended; at the next sign-in they choose a new password."
          value={password}
          onDone={() => setPassword(undefined)}
        />
      ) : null}
      {error ? <ActionError error={error} action="change the user" /> : null}
      <ConfirmDialog
        open={confirm !== undefined}
        title={confirm === "delete" ? `Delete ${user.username}?` : `Reset ${user.username}'s password?`}
        confirmLabel={confirm === "delete" ? "Delete user" : "Reset password"}
        busy={remove.isPending || reset.isPending}
        onCancel={() => setConfirm(undefined)}
        onConfirm={() =>
          confirm === "delete" ? remove.mutate({ id: user.id }) : reset.mutate({ id: user.id })
        }
      >
        <p>
          {confirm === "delete"
            ? "The account and its sessions are removed at once. Its audit entries stay."
            : "The current password stops working and every session of this user ends. You get a one-time password to hand over."}
        </p>
      </ConfirmDialog>
    </li>
  );
}
