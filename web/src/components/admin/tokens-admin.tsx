"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { type ApiToken, ApiTokenService } from "@ocore/proto/gen/ocore/api/v1/api_token_service_pb.js";
import { UserService } from "@ocore/proto/gen/ocore/api/v1/user_service_pb.js";
import { type FormEvent, useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { SecretOnce } from "@/components/ui/secret-once";
import { TextField } from "@/components/ui/text-field";
import { formatTimestamp } from "@/lib/format";
import { formatRelativeTime } from "@/lib/relative-time";
import { ListError, ListSkeleton } from "./query-state";
import { BindingChip, type BindingDraft, RoleBindingFields } from "./role-binding-fields";

function CreateTokenForm({ onCreated }: { onCreated: () => void }) {
  const roles = useQuery(UserService.method.listRoles, {});
  const [name, setName] = useState("");
  const [binding, setBinding] = useState<BindingDraft>({ role: "viewer", selector: "" });
  const [ttlDays, setTtlDays] = useState("90");
  const [secret, setSecret] = useState<{ name: string; value: string }>();
  const create = useMutation(ApiTokenService.method.createApiToken, {
    onSuccess: (response) => {
      setSecret({ name: response.token?.name ?? name, value: response.secret });
      setName("");
      onCreated();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({
      name: name.trim(),
      role: binding.role,
      selector: binding.selector.trim(),
      ttlDays: Number(ttlDays),
    });
  };
  if (secret) {
    return (
      <SecretOnce
        title={`Token “${secret.name}” was created`}
        note="Copy it now: it is shown only once and cannot be read again. Send it as “Authorization: Bearer <token>”."
        value={secret.value}
        onDone={() => setSecret(undefined)}
        testId="token-created"
      />
    );
  }
  return (
    <form
      onSubmit={submit}
      className="grid gap-3 rounded-lg border border-line bg-surface p-4 sm:grid-cols-2 lg:grid-cols-4 lg:items-start"
      data-testid="create-token-form"
    >
      <TextField
        label="Name"
        required
        value={name}
        onChange={(event) => setName(event.target.value)}
        placeholder="e.g. ci-deploy"
        data-testid="token-name"
      />
      <RoleBindingFields roles={roles.data?.roles ?? []} value={binding} onChange={setBinding} />
      <TextField
        label="Valid for (days)"
        type="number"
        min={1}
        max={3650}
        required
        value={ttlDays}
        onChange={(event) => setTtlDays(event.target.value)}
      />
      <div className="sm:col-span-2 lg:col-span-4">
        <Button type="submit" variant="primary" aria-disabled={create.isPending} data-testid="create-token">
          {create.isPending ? "Creating…" : "Create token"}
        </Button>
      </div>
      {create.error ? (
        <div className="sm:col-span-2 lg:col-span-4">
          <ActionError error={create.error} action="create the token" />
        </div>
      ) : null}
    </form>
  );
}

function TokenRow({ token, onRevoked }: { token: ApiToken; onRevoked: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const revoke = useMutation(ApiTokenService.method.revokeApiToken, {
    onSuccess: () => {
      setConfirming(false);
      onRevoked();
    },
  });
  const now = new Date();
  const expired = token.expiresAt ? timestampDate(token.expiresAt) < now : false;
  return (
    <li className="flex flex-wrap items-start justify-between gap-3 p-4" data-testid="token-row">
      <div className="min-w-0 space-y-1">
        <p className="font-medium">
          {token.name} <code className="ml-1 font-mono text-xs text-ink-muted">{token.prefix}…</code>
        </p>
        <ul className="flex flex-wrap gap-1">
          <BindingChip role={token.role} selector={token.selector} />
        </ul>
        <p className="text-xs text-ink-muted">
          {token.revokedAt
            ? `Revoked ${formatTimestamp(token.revokedAt)}`
            : token.expiresAt
              ? `${expired ? "Expired" : "Expires"} ${formatRelativeTime(timestampDate(token.expiresAt), now)}`
              : "Never expires"}
          {" · "}
          {token.lastUsedAt
            ? `last used ${formatRelativeTime(timestampDate(token.lastUsedAt), now)}`
            : "never used"}
          {token.createdBy ? ` · created by ${token.createdBy}` : ""}
        </p>
      </div>
      {token.revokedAt ? null : (
        <Button onClick={() => setConfirming(true)} data-testid="revoke-token">
          Revoke
        </Button>
      )}
      {revoke.error ? <ActionError error={revoke.error} action="revoke the token" /> : null}
      <ConfirmDialog
        open={confirming}
        title={`Revoke “${token.name}”?`}
        confirmLabel="Revoke token"
        busy={revoke.isPending}
        onCancel={() => setConfirming(false)}
        onConfirm={() => revoke.mutate({ id: token.id })}
      >
        <p>
          Automation using this token is refused from now on. This cannot be undone; create a new token to
          restore access.
        </p>
      </ConfirmDialog>
    </li>
  );
}

/** API tokens for automation: create (secret shown once), list, revoke. */
export function TokensAdmin() {
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const tokens = useQuery(ApiTokenService.method.listApiTokens, { includeRevoked });
  const refetch = () => void tokens.refetch();
  return (
    <div className="space-y-4">
      {tokens.error ? (
        <ListError
          error={tokens.error}
          permission="tokens.manage"
          retrying={tokens.isFetching}
          onRetry={refetch}
          testId="tokens-error"
        />
      ) : (
        <>
          <CreateTokenForm onCreated={refetch} />
          <label className="flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              checked={includeRevoked}
              onChange={(event) => setIncludeRevoked(event.target.checked)}
            />
            Show revoked tokens
          </label>
          {!tokens.data ? (
            <ListSkeleton label="Loading tokens…" testId="tokens-loading" />
          ) : tokens.data.tokens.length === 0 ? (
            <p
              className="rounded-lg border border-dashed border-line bg-surface p-4 text-sm text-ink-muted"
              data-testid="tokens-empty"
            >
              No API tokens{includeRevoked ? "" : " in use"}. Create one above for scripts and CI; each token
              carries one role, optionally limited to some servers.
            </p>
          ) : (
            <ul
              className="divide-y divide-line rounded-lg border border-line bg-surface"
              data-testid="token-list"
            >
              {tokens.data.tokens.map((token) => (
                <TokenRow key={token.id} token={token} onRevoked={refetch} />
              ))}
            </ul>
          )}
        </>
      )}
    </div>
  );
}
