"use client";

import { ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { useMutation, useQuery, useTransport } from "@connectrpc/connect-query";
import { type Backup, BackupService } from "@ocore/proto/gen/ocore/api/v1/backup_service_pb.js";
import { useMutation as useLongMutation } from "@tanstack/react-query";
import { useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { SecretOnce } from "@/components/ui/secret-once";
import { TextField } from "@/components/ui/text-field";
import { formatBytes } from "@/lib/chart-series";
import { formatTimestamp } from "@/lib/format";
import { checkInstanceName } from "@/lib/instances";

/** A backup or a restore runs to completion inside its call; big instances take minutes. */
const BACKUP_TIMEOUT_MS = 30 * 60_000;

/** BackupService with the long deadline its calls need (the console's default is 15 s). */
const backupClient = (transport: Transport) => createClient(BackupService, transport);

function BackupRow({ backup, onChanged }: { backup: Backup; onChanged: (password?: string) => void }) {
  const transport = useTransport();
  const [dialog, setDialog] = useState<"restore" | "delete">();
  const [newName, setNewName] = useState("");
  const [downloadError, setDownloadError] = useState<ConnectError>();
  const restore = useLongMutation<
    Awaited<ReturnType<ReturnType<typeof backupClient>["restoreBackup"]>>,
    ConnectError,
    { id: string; newInstanceName: string }
  >({
    mutationFn: (input) =>
      backupClient(transport)
        .restoreBackup(input, { timeoutMs: BACKUP_TIMEOUT_MS })
        .catch((error: unknown) => Promise.reject(ConnectError.from(error))),
    onSuccess: (response) => {
      setDialog(undefined);
      onChanged(response.adminPassword || undefined);
    },
  });
  const remove = useMutation(BackupService.method.deleteBackup, {
    onSuccess: () => {
      setDialog(undefined);
      onChanged();
    },
  });
  const download = async () => {
    setDownloadError(undefined);
    try {
      const parts: BlobPart[] = [];
      for await (const response of backupClient(transport).downloadBackup(
        { id: backup.id },
        { timeoutMs: BACKUP_TIMEOUT_MS },
      )) {
        parts.push(new Uint8Array(response.chunk));
      }
      const url = URL.createObjectURL(new Blob(parts, { type: "application/gzip" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = `${backup.instanceName}-${backup.id.slice(0, 8)}.tar.gz`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (caught) {
      setDownloadError(ConnectError.from(caught));
    }
  };
  const completed = backup.state === "completed";
  const nameError = newName ? checkInstanceName(newName) : undefined;
  return (
    <li className="space-y-2 p-3 text-sm" data-testid="backup-row">
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div>
          <p className="font-medium">
            {backup.createdAt ? formatTimestamp(backup.createdAt) : "—"}{" "}
            <span className="font-normal text-ink-muted">· {backup.kind.replaceAll("_", " ")}</span>
          </p>
          <p
            className={`text-xs ${backup.state === "failed" ? "text-danger" : "text-ink-muted"}`}
            data-testid="backup-state"
          >
            {backup.state}
            {completed
              ? ` · ${formatBytes(Number(backup.sizeBytes))} · sha256 ${backup.sha256.slice(0, 12)}…`
              : ""}
            {backup.errorMessage ? ` · ${backup.errorMessage}` : ""}
          </p>
        </div>
        <div className="flex flex-wrap gap-2">
          {completed ? (
            <>
              <Button onClick={() => void download()}>Download</Button>
              <Button onClick={() => setDialog("restore")} data-testid="backup-restore">
                Restore…
              </Button>
            </>
          ) : null}
          <Button onClick={() => setDialog("delete")}>Delete</Button>
        </div>
      </div>
      {downloadError ? <ActionError error={downloadError} action="download the backup" /> : null}
      <ConfirmDialog
        open={dialog === "restore"}
        title="Restore this backup?"
        confirmLabel={newName ? "Restore into a new instance" : "Restore over the instance"}
        busy={restore.isPending}
        onCancel={() => setDialog(undefined)}
        onConfirm={() =>
          nameError ? undefined : restore.mutate({ id: backup.id, newInstanceName: newName })
        }
      >
        <p>
          Over the instance: its database and files are replaced, after an automatic backup of their current
          state. Or give a name to restore into a new instance on the same server.
        </p>
        <TextField
          label="New instance name (optional)"
          value={newName}
          onChange={(e) => setNewName(e.target.value)}
          error={nameError}
          autoCapitalize="none"
        />
        {restore.error ? <ActionError error={restore.error} action="restore" /> : null}
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog === "delete"}
        title="Delete this backup?"
        confirmLabel="Delete backup"
        busy={remove.isPending}
        onCancel={() => setDialog(undefined)}
        onConfirm={() => remove.mutate({ id: backup.id })}
      >
        <p>The archive is deleted from the backup store. This cannot be undone.</p>
        {remove.error ? <ActionError error={remove.error} action="delete the backup" /> : null}
      </ConfirmDialog>
    </li>
  );
}

/** An instance's backups: take one now, download, restore (over or into a new instance), delete. */
export function InstanceBackups({ instanceId, onRestored }: { instanceId: string; onRestored: () => void }) {
  const transport = useTransport();
  const backups = useQuery(BackupService.method.listBackups, { instanceId });
  const [password, setPassword] = useState<string>();
  const create = useLongMutation<unknown, ConnectError, void>({
    mutationFn: () =>
      backupClient(transport)
        .createBackup({ instanceId }, { timeoutMs: BACKUP_TIMEOUT_MS })
        .catch((error: unknown) => Promise.reject(ConnectError.from(error))),
    onSettled: () => void backups.refetch(),
  });
  const changed = (adminPassword?: string) => {
    void backups.refetch();
    onRestored();
    if (adminPassword) setPassword(adminPassword);
  };
  return (
    <section className="space-y-3" aria-labelledby="backups-heading">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 id="backups-heading" className="text-lg font-semibold">
          Backups
        </h2>
        <Button
          variant="primary"
          onClick={create.isPending ? undefined : () => create.mutate()}
          aria-disabled={create.isPending}
          data-testid="backup-now"
        >
          {create.isPending ? "Backing up…" : "Back up now"}
        </Button>
      </div>
      {create.error ? <ActionError error={create.error} action="back up" /> : null}
      {password ? (
        <SecretOnce
          title="Restored into a new instance"
          note="This is the new instance's Odoo master password; oCore does not keep it."
          value={password}
          onDone={() => setPassword(undefined)}
        />
      ) : null}
      {backups.error ? (
        <ActionError error={backups.error} action="list the backups" />
      ) : !backups.data ? (
        <p className="text-sm text-ink-muted">Loading backups…</p>
      ) : backups.data.backups.length === 0 ? (
        <p
          className="rounded-lg border border-dashed border-line bg-surface p-4 text-sm text-ink-muted"
          data-testid="backups-empty"
        >
          No backups yet. Take one now; oCore also backs up automatically before a restore or a deletion.
        </p>
      ) : (
        <ul
          className="divide-y divide-line rounded-lg border border-line bg-surface"
          data-testid="backup-list"
        >
          {backups.data.backups.map((backup) => (
            <BackupRow key={backup.id} backup={backup} onChanged={changed} />
          ))}
        </ul>
      )}
    </section>
  );
}
