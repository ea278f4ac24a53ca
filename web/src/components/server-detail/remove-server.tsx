"use client";

import { useMutation } from "@connectrpc/connect-query";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";

/**
 * Starts removing a server after confirmation: the agent is uninstalled in the background and the
 * status shows "removing" live until the server disappears.
 */
export function RemoveServer({ id, name, status }: { id: string; name: string; status: string }) {
  const [open, setOpen] = useState(false);
  const [force, setForce] = useState(false);
  const remove = useMutation(ServerService.method.deleteServer, { onSuccess: () => setOpen(false) });
  if (status === "removing") return null;
  return (
    <>
      <Button onClick={() => setOpen(true)} data-testid="remove-server">
        Remove server
      </Button>
      {remove.error && !open ? <ActionError error={remove.error} action="remove the server" /> : null}
      <ConfirmDialog
        open={open}
        title={`Remove ${name}?`}
        confirmLabel="Remove server"
        busy={remove.isPending}
        onCancel={() => setOpen(false)}
        onConfirm={() => remove.mutate({ id, force })}
      >
        <p>
          oCore uninstalls its agent from the host over SSH (or via the agent), then forgets the server and
          its metrics. This runs in the background; the status shows its progress.
        </p>
        <label className="flex items-start gap-2 text-ink">
          <input
            type="checkbox"
            checked={force}
            onChange={(event) => setForce(event.target.checked)}
            className="mt-1"
          />
          <span>
            Remove it even if Odoo instances run on it (their records go; their containers stay on the host).
          </span>
        </label>
        {remove.error ? <ActionError error={remove.error} action="remove the server" /> : null}
      </ConfirmDialog>
    </>
  );
}
