"use client";

import type { MessageInitShape } from "@bufbuild/protobuf";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import type { CreateChannelRequestSchema } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import {
  AlertService,
  type Channel,
  type CreateChannelRequest,
} from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import type { Route } from "next";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";

const KINDS = ["email", "webhook", "slack", "discord", "teams", "telegram", "ntfy", "pagerduty"] as const;
type Kind = (typeof KINDS)[number];

/** What each kind asks for: a URL, a secret, and a chat id or topic. */
const FIELDS: Record<Kind, { url: string; secret?: string; extra?: string }> = {
  email: { url: "SMTP host", secret: "SMTP password (optional)", extra: "To (comma-separated)" },
  webhook: { url: "Receiver URL", secret: "Signing secret (16+ characters)" },
  slack: { url: "Incoming-webhook URL (kept secret)" },
  discord: { url: "Webhook URL (kept secret)" },
  teams: { url: "Workflows webhook URL (kept secret)" },
  telegram: { url: "Bot API URL (empty: api.telegram.org)", secret: "Bot token", extra: "Chat id" },
  ntfy: { url: "Server URL (empty: ntfy.sh)", secret: "Access token (optional)", extra: "Topic" },
  pagerduty: { url: "Events API URL (empty: PagerDuty's)", secret: "Routing key" },
};

/** The e-mail channel's other fields: port, security, user name and sender. */
interface EmailExtra {
  port: string;
  security: string;
  username: string;
  from: string;
}

function settingsOf(
  kind: Kind,
  url: string,
  secret: string,
  extra: string,
  email: EmailExtra,
): CreateChannelRequest["settings"] {
  switch (kind) {
    case "email":
      return {
        case: "email",
        value: {
          smtpHost: url,
          smtpPort: Number(email.port) || 0,
          security: email.security,
          username: email.username.trim(),
          password: secret,
          from: email.from.trim(),
          to: extra
            .split(",")
            .map((address) => address.trim())
            .filter((address) => address !== ""),
        },
      } as CreateChannelRequest["settings"];
    case "webhook":
      return { case: "webhook", value: { url, secret } } as CreateChannelRequest["settings"];
    case "slack":
    case "discord":
    case "teams":
      return { case: kind, value: { url } } as CreateChannelRequest["settings"];
    case "telegram":
      return {
        case: "telegram",
        value: { botToken: secret, chatId: extra, apiUrl: url },
      } as CreateChannelRequest["settings"];
    case "ntfy":
      return {
        case: "ntfy",
        value: { serverUrl: url, topic: extra, token: secret },
      } as CreateChannelRequest["settings"];
    case "pagerduty":
      return {
        case: "pagerduty",
        value: { routingKey: secret, apiUrl: url },
      } as CreateChannelRequest["settings"];
  }
}

function CreateChannelForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const [kind, setKind] = useState<Kind>("webhook");
  const [email, setEmail] = useState<EmailExtra>({
    port: "587",
    security: "starttls",
    username: "",
    from: "",
  });
  const [url, setUrl] = useState("");
  const [secret, setSecret] = useState("");
  const [extra, setExtra] = useState("");
  const [routeSelector, setRouteSelector] = useState("");
  const [minSeverity, setMinSeverity] = useState("warning");
  const create = useMutation(AlertService.method.createChannel, {
    onSuccess: () => {
      setName("");
      setUrl("");
      setSecret("");
      setExtra("");
      onCreated();
    },
  });
  const fields = FIELDS[kind];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const request: MessageInitShape<typeof CreateChannelRequestSchema> = {
      name: name.trim(),
      settings: settingsOf(kind, url.trim(), secret, extra.trim(), email),
      routeSelector: routeSelector.trim(),
      minSeverity,
    };
    create.mutate(request);
  };
  return (
    <form
      onSubmit={submit}
      className="grid gap-3 rounded-lg border border-line bg-surface p-4 sm:grid-cols-2"
      data-testid="create-channel-form"
    >
      <TextField
        label="Name"
        required
        value={name}
        onChange={(e) => setName(e.target.value)}
        data-testid="channel-name"
      />
      <label className="block text-sm font-medium">
        Kind
        <select
          className="mt-1 block w-full rounded-md border border-line bg-surface px-2 py-1.5"
          value={kind}
          onChange={(e) => setKind(e.target.value as Kind)}
          data-testid="channel-kind"
        >
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </label>
      <TextField
        label={fields.url}
        value={url}
        onChange={(e) => setUrl(e.target.value)}
        data-testid="channel-url"
      />
      {fields.secret ? (
        <TextField
          label={fields.secret}
          type="password"
          autoComplete="off"
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
          data-testid="channel-secret"
        />
      ) : null}
      {fields.extra ? (
        <TextField
          label={fields.extra}
          value={extra}
          onChange={(e) => setExtra(e.target.value)}
          data-testid="channel-extra"
        />
      ) : null}
      {kind === "email" ? (
        <>
          <TextField
            label="SMTP port"
            inputMode="numeric"
            value={email.port}
            onChange={(e) => setEmail({ ...email, port: e.target.value })}
            data-testid="channel-smtp-port"
          />
          <label className="block text-sm font-medium">
            Security
            <select
              className="mt-1 block w-full rounded-md border border-line bg-surface px-2 py-1.5"
              value={email.security}
              onChange={(e) => setEmail({ ...email, security: e.target.value })}
              data-testid="channel-smtp-security"
            >
              <option value="starttls">STARTTLS (port 587)</option>
              <option value="tls">TLS (port 465)</option>
              <option value="none">none (trusted networks only)</option>
            </select>
          </label>
          <TextField
            label="SMTP user name (optional)"
            autoComplete="off"
            value={email.username}
            onChange={(e) => setEmail({ ...email, username: e.target.value })}
          />
          <TextField
            label="From"
            value={email.from}
            onChange={(e) => setEmail({ ...email, from: e.target.value })}
            placeholder="ocore@example.com"
            data-testid="channel-smtp-from"
          />
        </>
      ) : null}
      <TextField
        label="Only servers matching (selector, empty: all)"
        value={routeSelector}
        onChange={(e) => setRouteSelector(e.target.value)}
        placeholder="env=prod"
      />
      <label className="block text-sm font-medium">
        Least severity
        <select
          className="mt-1 block w-full rounded-md border border-line bg-surface px-2 py-1.5"
          value={minSeverity}
          onChange={(e) => setMinSeverity(e.target.value)}
        >
          <option value="warning">warning and critical</option>
          <option value="critical">critical only</option>
        </select>
      </label>
      <div className="sm:col-span-2">
        <Button type="submit" variant="primary" aria-disabled={create.isPending} data-testid="create-channel">
          {create.isPending ? "Adding…" : "Add channel"}
        </Button>
      </div>
      {create.error ? (
        <div className="sm:col-span-2">
          <ActionError error={create.error} action="add the channel" />
        </div>
      ) : null}
    </form>
  );
}

function ChannelRow({ channel, onDeleted }: { channel: Channel; onDeleted: () => void }) {
  const test = useMutation(AlertService.method.testChannel);
  const remove = useMutation(AlertService.method.deleteChannel, { onSuccess: onDeleted });
  const value = channel.settings.value as Record<string, unknown> | undefined;
  const where = String(
    value?.urlHint || value?.url || value?.smtpHost || value?.topic || value?.chatId || value?.apiUrl || "",
  );
  return (
    <li className="space-y-1 px-4 py-3" data-testid="channel-row">
      <div className="flex flex-wrap items-center gap-3">
        <span className="font-medium">{channel.name}</span>
        <span className="rounded bg-surface-muted px-2 py-0.5 text-xs">{channel.kind}</span>
        <span className="text-xs text-ink-muted">{where}</span>
        {channel.routeSelector || channel.minSeverity === "critical" ? (
          <span className="text-xs text-ink-muted">
            route: {channel.routeSelector || "all servers"},{" "}
            {channel.minSeverity === "critical" ? "critical only" : "all severities"}
          </span>
        ) : null}
        <span className="ml-auto flex gap-2">
          <Button
            aria-disabled={test.isPending}
            onClick={() => test.mutate({ id: channel.id })}
            data-testid="channel-test"
          >
            {test.isPending ? "Sending…" : "Send a test"}
          </Button>
          <Button variant="danger" onClick={() => remove.mutate({ id: channel.id })}>
            Delete
          </Button>
        </span>
      </div>
      {test.data ? (
        <p
          className={`text-xs ${test.data.delivered ? "text-success" : "text-danger"}`}
          data-testid="channel-test-result"
        >
          {test.data.delivered ? `Delivered: ${test.data.summary}` : `Failed: ${test.data.error}`} (
          {test.data.durationMs} ms)
        </p>
      ) : null}
      {test.error ? <ActionError error={test.error} action="send a test" /> : null}
      {remove.error ? <ActionError error={remove.error} action="delete the channel" /> : null}
    </li>
  );
}

/** Notification channels: add one, send it a test, delete it. Secrets are never shown again. */
export function ChannelsPage() {
  const channels = useQuery(AlertService.method.listChannels, {});
  const refetch = () => void channels.refetch();
  return (
    <div className="space-y-4">
      <p className="text-ink-muted">
        Where notifications go: one grouped message per server. Secrets (tokens, keys, webhook URLs) are
        stored sealed and never shown again. Each attempt is in the{" "}
        <Link href={"/alerts/deliveries" as Route} className="underline">
          delivery log
        </Link>
        .
      </p>
      <CreateChannelForm onCreated={refetch} />
      {channels.error ? (
        <ListError
          error={channels.error}
          permission="alerts.manage"
          retrying={channels.isFetching}
          onRetry={refetch}
          testId="channels-error"
        />
      ) : !channels.data ? (
        <ListSkeleton label="Loading channels…" testId="channels-loading" />
      ) : (
        <ul
          className="divide-y divide-line rounded-lg border border-line bg-surface"
          data-testid="channel-list"
        >
          {channels.data.channels.map((channel) => (
            <ChannelRow key={channel.id} channel={channel} onDeleted={refetch} />
          ))}
        </ul>
      )}
    </div>
  );
}
