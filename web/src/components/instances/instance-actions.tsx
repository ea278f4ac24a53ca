"use client";

import { useMutation } from "@connectrpc/connect-query";
import { type Instance, InstanceService } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import { useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { instanceActions } from "@/lib/instances";

/** Start, stop, restart and delete (confirmed, with the automatic backup unless skipped). */
export function InstanceActions({ instance, onChanged }: { instance: Instance; onChanged: () => void }) {
  const options = { onSuccess: onChanged };
  const start = useMutation(InstanceService.method.startInstance, options);
  const stop = useMutation(InstanceService.method.stopInstance, options);
  const restart = useMutation(InstanceService.method.restartInstance, options);
  const [confirming, setConfirming] = useState(false);
  const [skipBackup, setSkipBackup] = useState(false);
  const remove = useMutation(InstanceService.method.deleteInstance, {
    onSuccess: () => {
      setConfirming(false);
      onChanged();
    },
  });
  const allowed = instanceActions(instance.state);
  const busy = start.isPending || stop.isPending || restart.isPending;
  const error = start.error ?? stop.error ?? restart.error ?? (confirming ? null : remove.error);
  const id = instance.id;
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap gap-2">
        {allowed.start ? (
          <Button
            onClick={busy ? undefined : () => start.mutate({ id })}
            aria-disabled={busy}
            data-testid="instance-start"
          >
            {start.isPending ? "Starting…" : "Start"}
          </Button>
        ) : null}
        {allowed.stop ? (
          <Button
            onClick={busy ? undefined : () => stop.mutate({ id })}
            aria-disabled={busy}
            data-testid="instance-stop"
          >
            {stop.isPending ? "Stopping…" : "Stop"}
          </Button>
        ) : null}
        {allowed.restart ? (
          <Button
            onClick={busy ? undefined : () => restart.mutate({ id })}
            aria-disabled={busy}
            data-testid="instance-restart"
          >
            {restart.isPending ? "Restarting…" : "Restart"}
          </Button>
        ) : null}
        {allowed.remove ? (
          <Button onClick={() => setConfirming(true)} data-testid="instance-delete">
            Delete
          </Button>
        ) : null}
      </div>
      {error ? <ActionError error={error} action={`change ${instance.name}`} /> : null}
      <ConfirmDialog
        open={confirming}
        title={`Delete ${instance.name}?`}
        confirmLabel="Delete instance"
        busy={remove.isPending}
        onCancel={() => setConfirming(false)}
        onConfirm={() => remove.mutate({ id, skipBackup })}
      >
        <p>
          oCore takes a last backup, then removes the containers, the database and the files, and frees the
          ports. The backup stays in the backup store.
        </p>
        <label className="flex items-start gap-2 text-ink">
          <input
            type="checkbox"
            checked={skipBackup}
            onChange={(event) => setSkipBackup(event.target.checked)}
            className="mt-1"
          />
          <span>Skip the backup (only when backing up keeps failing).</span>
        </label>
        {remove.error ? <ActionError error={remove.error} action="delete the instance" /> : null}
      </ConfirmDialog>
    </div>
  );
}
