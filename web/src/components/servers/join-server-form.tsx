"use client";

import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import {
  type CreateJoinCommandResponse,
  JoinService,
} from "@ocore/proto/gen/ocore/api/v1/join_service_pb.js";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import Link from "next/link";
import { type FormEvent, useEffect, useState } from "react";
import { ProvisioningPanel } from "@/components/server-detail/provisioning-panel";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import { formatTimestamp } from "@/lib/format";
import { parseTagInput } from "@/lib/tag-input";

const LIFETIMES = [
  { label: "1 hour", ms: 3_600_000 },
  { label: "24 hours", ms: 86_400_000 },
  { label: "7 days", ms: 604_800_000 },
];

/** A command with its copy button. */
function CommandBox({ label, value, testId }: { label: string; value: string; testId: string }) {
  const [copied, setCopied] = useState<"yes" | "failed" | undefined>();
  return (
    <div className="space-y-1">
      <p className="text-sm font-medium">{label}</p>
      <div className="flex flex-wrap items-center gap-2">
        {/* pre-wrap: sha256sum -c needs the two spaces between digest and file name, also when copied by hand. */}
        <code
          className="min-w-0 flex-1 rounded-md border border-line bg-surface-muted px-3 py-1.5 font-mono text-sm break-all whitespace-pre-wrap"
          data-testid={testId}
        >
          {value}
        </code>
        <Button
          onClick={() =>
            navigator.clipboard
              .writeText(value)
              .then(() => setCopied("yes"))
              .catch(() => setCopied("failed"))
          }
          data-testid={`${testId}-copy`}
        >
          {copied === "yes" ? "Copied" : "Copy"}
        </Button>
      </div>
      {copied === "failed" ? (
        <p className="text-sm text-danger">
          The browser refused the clipboard; select the text and copy it by hand.
        </p>
      ) : null}
    </div>
  );
}

/** The joining server as it happens: its status and the same steps as SSH onboarding, refreshed until active. */
function JoinProgress({ serverId }: { serverId: string }) {
  const details = useQuery(
    ServerService.method.getServer,
    { id: serverId },
    { refetchInterval: (query) => (query.state.data?.server?.status === "active" ? false : 2_000) },
  );
  const server = details.data?.server;
  if (!server) return <p className="text-sm text-ink-muted">Waiting for the host…</p>;
  return (
    <div className="space-y-3" aria-live="polite">
      <p className="text-sm" data-testid="join-status" data-status={server.status}>
        <span className="font-medium">Status:</span> {server.status}
        {server.statusMessage ? ` · ${server.statusMessage}` : ""}
      </p>
      {server.status === "active" ? (
        <Link
          href={`/servers/${server.id}`}
          className="text-sm text-accent underline"
          data-testid="join-open-server"
        >
          Open {server.name}
        </Link>
      ) : null}
      <ProvisioningPanel server={server} changeKey={String(details.dataUpdatedAt)} />
    </div>
  );
}

function JoinCommandShown({ created }: { created: CreateJoinCommandResponse }) {
  const join = created.joinCommand;
  return (
    <div className="space-y-4 rounded-lg border border-accent bg-surface p-4" data-testid="join-command">
      <div className="space-y-1">
        <p className="font-medium">Run this on the host, as root</p>
        <p className="text-sm text-ink-muted">
          It works once{join?.expiresAt ? `, until ${formatTimestamp(join.expiresAt)}` : ""}. The host
          downloads the agent from this server, checks it and the server's CA, runs the same requirement
          checks as SSH onboarding and reports each step here. Nothing connects to the host.
        </p>
      </div>
      <CommandBox label="One line" value={created.command} testId="join-command-text" />
      <CommandBox
        label="Or download, check the script's SHA-256, then run it"
        value={created.verifiedCommand}
        testId="join-verified-command-text"
      />
      <p className="text-sm text-ink-muted">
        To remove the agent later: <code className="font-mono break-all">{created.uninstallCommand}</code> (or
        remove the server here).
      </p>
      {join ? <JoinProgress serverId={join.serverId} /> : null}
    </div>
  );
}

/**
 * "Join from the host": for hosts the server cannot reach (NAT, firewall). Creates a single-use
 * join command for a new server (or, with `serverId`, for an existing one) and shows it with the
 * host's progress, live.
 */
export function JoinServerForm({ serverId }: { serverId?: string }) {
  const [name, setName] = useState("");
  const [tagText, setTagText] = useState("");
  const [serverUrl, setServerUrl] = useState("");
  const [lifetime, setLifetime] = useState(LIFETIMES[0]?.ms ?? 3_600_000);
  const [acceptDocker, setAcceptDocker] = useState(false);
  const tags = parseTagInput(tagText);
  useEffect(() => setServerUrl(window.location.origin), []);
  const create = useMutation(JoinService.method.createJoinCommand);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if ("error" in tags) return;
    create.mutate({
      serverId: serverId ?? "",
      name: name.trim(),
      tags: tags.tags,
      serverUrl: serverUrl.trim(),
      ttl: durationFromMs(lifetime),
      acceptedRequirements: acceptDocker ? ["docker"] : [],
    });
  };

  if (create.data) return <JoinCommandShown created={create.data} />;
  return (
    <form
      onSubmit={submit}
      className="space-y-5 rounded-lg border border-line bg-surface p-4 sm:p-6"
      data-testid="join-server-form"
    >
      <div className="grid gap-4 sm:grid-cols-2">
        {serverId ? null : (
          <>
            <TextField
              label="Name"
              required
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="e.g. branch-office-1"
              hint="Unique in the fleet; letters, digits, '.', '_', '-'."
              data-testid="join-name-input"
            />
            <TextField
              label="Tags"
              value={tagText}
              onChange={(e) => setTagText(e.target.value)}
              placeholder="env=prod, site=branch"
              error={"error" in tags ? tags.error : undefined}
              hint="key=value pairs, separated by commas."
              data-testid="join-tags-input"
            />
          </>
        )}
        <TextField
          label="This server's address, as the host reaches it"
          required
          value={serverUrl}
          onChange={(e) => setServerUrl(e.target.value)}
          spellCheck={false}
          autoCapitalize="none"
          hint="http:// or https://, host and port. Over plain HTTP, prefer the download-then-check form."
          data-testid="join-url-input"
        />
        <div className="space-y-1">
          <label className="block text-sm font-medium" htmlFor="join-lifetime">
            Valid for
          </label>
          <select
            id="join-lifetime"
            value={lifetime}
            onChange={(e) => setLifetime(Number(e.target.value))}
            className="block w-full rounded-md border border-line bg-surface px-3 py-1.5 text-ink"
          >
            {LIFETIMES.map((option) => (
              <option key={option.ms} value={option.ms}>
                {option.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" checked={acceptDocker} onChange={(e) => setAcceptDocker(e.target.checked)} />{" "}
        Go ahead if the host's Docker Engine is missing or older than 24.0 (at your own risk)
      </label>
      {create.error ? (
        <ActionError error={create.error} action="create the join command" testId="join-server-error" />
      ) : null}
      <Button
        type="submit"
        variant="primary"
        aria-disabled={create.isPending}
        data-testid="join-server-submit"
      >
        {create.isPending ? "Creating…" : "Create the join command"}
      </Button>
    </form>
  );
}
