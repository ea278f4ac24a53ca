"use client";

import { useMutation } from "@connectrpc/connect-query";
import type { FleetServer } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { InstanceService } from "@ocore/proto/gen/ocore/api/v1/instance_service_pb.js";
import { type FormEvent, useId, useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { SecretOnce } from "@/components/ui/secret-once";
import { TextField } from "@/components/ui/text-field";
import { checkInstanceName } from "@/lib/instances";

const MIB = 1024 * 1024;

/** Creates an instance on an active server; Odoo's master password is shown once. */
export function CreateInstanceForm({
  servers,
  onCreated,
}: {
  servers: readonly FleetServer[];
  onCreated: () => void;
}) {
  const active = servers.flatMap((entry) => (entry.server?.status === "active" ? [entry.server] : []));
  const [serverId, setServerId] = useState("");
  const [name, setName] = useState("");
  const [edition, setEdition] = useState("community");
  const [workers, setWorkers] = useState("2");
  const [memoryMib, setMemoryMib] = useState("0");
  const [touched, setTouched] = useState(false);
  const [created, setCreated] = useState<{ name: string; password: string }>();
  const serverField = useId();
  const editionField = useId();
  const create = useMutation(InstanceService.method.createInstance, {
    onSuccess: (response) => {
      setCreated({ name: response.instance?.name ?? name, password: response.adminPassword });
      setName("");
      setTouched(false);
      onCreated();
    },
  });
  const chosen = serverId || active[0]?.id || "";
  const nameError = touched ? checkInstanceName(name) : undefined;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (checkInstanceName(name)) return;
    create.mutate({
      serverId: chosen,
      name,
      edition,
      workers: Number(workers) || 0,
      memoryBytes: BigInt(Math.max(0, Number(memoryMib) || 0) * MIB),
    });
  };

  if (created) {
    return (
      <SecretOnce
        title={`${created.name} is being created`}
        note="This is Odoo's master password (database manager). oCore does not keep it: store it now."
        value={created.password}
        onDone={() => setCreated(undefined)}
        testId="instance-created"
      />
    );
  }
  if (active.length === 0) {
    return (
      <p
        className="rounded-lg border border-dashed border-line bg-surface p-4 text-sm text-ink-muted"
        data-testid="no-active-servers"
      >
        Instances run on active servers, and none is active yet. Add a server and wait until it shows Active.
      </p>
    );
  }
  return (
    <form
      onSubmit={submit}
      className="grid gap-3 rounded-lg border border-line bg-surface p-4 sm:grid-cols-2 lg:grid-cols-5 lg:items-start"
      data-testid="create-instance-form"
    >
      <div className="space-y-1">
        <label htmlFor={serverField} className="block text-sm font-medium">
          Server
        </label>
        <select
          id={serverField}
          value={chosen}
          onChange={(e) => setServerId(e.target.value)}
          className="block h-9.5 w-full rounded-md border border-line bg-surface px-2 text-ink"
          data-testid="instance-server"
        >
          {active.map((server) => (
            <option key={server.id} value={server.id}>
              {server.name}
            </option>
          ))}
        </select>
      </div>
      <TextField
        label="Name"
        required
        value={name}
        onChange={(e) => setName(e.target.value)}
        onBlur={() => setTouched(true)}
        placeholder="e.g. shop-prod"
        error={nameError}
        autoCapitalize="none"
        data-testid="instance-name"
      />
      <div className="space-y-1">
        <label htmlFor={editionField} className="block text-sm font-medium">
          Edition
        </label>
        <select
          id={editionField}
          value={edition}
          onChange={(e) => setEdition(e.target.value)}
          className="block h-9.5 w-full rounded-md border border-line bg-surface px-2 text-ink"
        >
          <option value="community">Community</option>
          <option value="enterprise">Enterprise</option>
        </select>
      </div>
      <TextField
        label="Workers"
        type="number"
        min={0}
        max={64}
        value={workers}
        onChange={(e) => setWorkers(e.target.value)}
        hint="0 runs Odoo threaded."
      />
      <TextField
        label="Memory limit (MiB)"
        type="number"
        min={0}
        value={memoryMib}
        onChange={(e) => setMemoryMib(e.target.value)}
        hint="0: no limit; else at least 128."
      />
      <div className="sm:col-span-2 lg:col-span-5">
        <Button
          type="submit"
          variant="primary"
          aria-disabled={create.isPending}
          data-testid="create-instance"
        >
          {create.isPending ? "Creating…" : "Create instance"}
        </Button>
      </div>
      {create.error ? (
        <div className="sm:col-span-2 lg:col-span-5">
          <ActionError error={create.error} action="create the instance" />
        </div>
      ) : null}
    </form>
  );
}
