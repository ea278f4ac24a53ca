"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { SshKeyService } from "@ocore/proto/gen/ocore/api/v1/ssh_key_service_pb.js";
import { type FormEvent, useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { formatRelativeTime } from "@/lib/relative-time";

const HEAD = "px-3 py-2 text-left text-xs font-medium tracking-wide text-ink-muted uppercase";

/**
 * The signed-in user's SSH public keys (SshKeyService): paste one to add it (the server says
 * what is wrong with a bad or weak key), see each key's fingerprint and last use, remove one.
 */
export function SshKeys() {
  const list = useQuery(SshKeyService.method.listSshKeys, {});
  const [publicKey, setPublicKey] = useState("");
  const [name, setName] = useState("");
  const [removing, setRemoving] = useState<{ id: string; name: string }>();
  const add = useMutation(SshKeyService.method.addSshKey, {
    onSuccess: () => {
      setPublicKey("");
      setName("");
      void list.refetch();
    },
  });
  const remove = useMutation(SshKeyService.method.deleteSshKey, {
    onSuccess: () => {
      setRemoving(undefined);
      void list.refetch();
    },
  });
  const onAdd = (event: FormEvent) => {
    event.preventDefault();
    if (!add.isPending) add.mutate({ publicKey: publicKey.trim(), name: name.trim() });
  };
  const now = new Date();

  return (
    <section className="space-y-4" aria-labelledby="ssh-keys-heading">
      <h2 id="ssh-keys-heading" className="text-lg font-semibold">
        SSH keys
      </h2>
      <form onSubmit={onAdd} className="space-y-3 rounded-lg border border-line bg-surface p-4">
        <div className="space-y-1">
          <label htmlFor="ssh-key-text" className="block text-sm font-medium">
            Public key
          </label>
          <textarea
            id="ssh-key-text"
            value={publicKey}
            onChange={(event) => setPublicKey(event.target.value)}
            rows={3}
            required
            spellCheck={false}
            placeholder="ssh-ed25519 AAAA… you@laptop (the contents of ~/.ssh/id_ed25519.pub)"
            className="block w-full rounded-md border border-line bg-surface px-3 py-1.5 font-mono text-xs"
            data-testid="ssh-key-input"
          />
          <p className="text-sm text-ink-muted">ed25519, ECDSA, or RSA of at least 3072 bits.</p>
        </div>
        <div className="space-y-1">
          <label htmlFor="ssh-key-name" className="block text-sm font-medium">
            Name (optional; the key's comment otherwise)
          </label>
          <input
            id="ssh-key-name"
            value={name}
            onChange={(event) => setName(event.target.value)}
            maxLength={100}
            className="block w-full max-w-sm rounded-md border border-line bg-surface px-3 py-1.5"
            data-testid="ssh-key-name"
          />
        </div>
        <Button type="submit" variant="primary" aria-disabled={add.isPending} data-testid="ssh-key-add">
          {add.isPending ? "Adding…" : "Add key"}
        </Button>
        {add.error ? <ActionError error={add.error} action="add the key" testId="ssh-key-error" /> : null}
      </form>
      {list.error ? (
        <ListError
          error={list.error}
          permission="an account"
          retrying={list.isFetching}
          onRetry={() => void list.refetch()}
        />
      ) : !list.data ? (
        <ListSkeleton label="Loading your SSH keys…" />
      ) : list.data.keys.length === 0 ? (
        <p className="text-sm text-ink-muted" data-testid="ssh-keys-empty">
          No SSH key yet. Add one to sign in to the gateway without a password.
        </p>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-line">
          <table className="w-full text-sm">
            <thead className="bg-surface-muted">
              <tr>
                <th className={HEAD}>Name</th>
                <th className={HEAD}>Fingerprint</th>
                <th className={HEAD}>Added</th>
                <th className={HEAD}>Last used</th>
                <th className={HEAD}>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.keys.map((key) => (
                <tr key={key.id} className="border-t border-line" data-testid="ssh-key-row">
                  <td className="px-3 py-2">
                    {key.name || "—"} <span className="text-ink-muted">({key.algorithm})</span>
                  </td>
                  <td className="px-3 py-2 font-mono text-xs" data-testid="ssh-key-fingerprint">
                    {key.fingerprint}
                  </td>
                  <td className="px-3 py-2">
                    {key.createdAt ? formatRelativeTime(timestampDate(key.createdAt), now) : "—"}
                  </td>
                  <td className="px-3 py-2">
                    {key.lastUsedAt ? formatRelativeTime(timestampDate(key.lastUsedAt), now) : "never"}
                  </td>
                  <td className="px-3 py-2 text-right">
                    <Button
                      onClick={() => setRemoving({ id: key.id, name: key.name || key.fingerprint })}
                      data-testid="ssh-key-remove"
                    >
                      Remove
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={removing !== undefined}
        title={`Remove the key ${removing?.name ?? ""}?`}
        confirmLabel="Remove key"
        busy={remove.isPending}
        onCancel={() => setRemoving(undefined)}
        onConfirm={() => removing && remove.mutate({ id: removing.id })}
      >
        <p>It can no longer sign in to the SSH gateway. Sessions already open stay open.</p>
        {remove.error ? <ActionError error={remove.error} action="remove the key" /> : null}
      </ConfirmDialog>
    </section>
  );
}
