"use client";

import { useMutation } from "@connectrpc/connect-query";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import { parseTagInput } from "@/lib/tag-input";

type Auth = "key" | "password";
const MAX_KEY_BYTES = 16 * 1024;

/**
 * Host, port, user, a private key (file or pasted) or a password, tags, and optionally the host
 * key fingerprint to expect. On success the server's page shows the provisioning live.
 */
export function AddServerForm() {
  const router = useRouter();
  const [name, setName] = useState("");
  const [host, setHost] = useState("");
  const [port, setPort] = useState("22");
  const [user, setUser] = useState("root");
  const [auth, setAuth] = useState<Auth>("key");
  const [privateKey, setPrivateKey] = useState("");
  const [passphrase, setPassphrase] = useState("");
  const [password, setPassword] = useState("");
  const [tagText, setTagText] = useState("");
  const [fingerprint, setFingerprint] = useState("");
  const [fileNote, setFileNote] = useState<string>();
  const tags = parseTagInput(tagText);
  const create = useMutation(ServerService.method.createServer, {
    onSuccess: (response) => {
      if (response.server) router.push(`/servers/${response.server.id}`);
    },
  });

  const readKeyFile = async (file: File | undefined) => {
    if (!file) return;
    if (file.size > MAX_KEY_BYTES) {
      setFileNote(
        `${file.name} is larger than 16 KB; choose the private key file itself (e.g. ~/.ssh/id_ed25519).`,
      );
      return;
    }
    setPrivateKey(await file.text());
    setFileNote(`Loaded ${file.name}.`);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if ("error" in tags) return;
    create.mutate({
      name: name.trim(),
      host: host.trim(),
      sshPort: Number(port) || 22,
      sshUser: user.trim(),
      tags: tags.tags,
      expectedHostKeyFingerprint: fingerprint.trim(),
      ...(auth === "key" ? { privateKey, passphrase } : { password }),
    });
  };

  return (
    <form
      onSubmit={submit}
      className="space-y-5 rounded-lg border border-line bg-surface p-4 sm:p-6"
      data-testid="add-server-form"
    >
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField
          label="Name"
          required
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="e.g. web-1"
          hint="Unique in the fleet; letters, digits, '.', '_', '-'."
          data-testid="server-name-input"
        />
        <TextField
          label="Host"
          required
          value={host}
          onChange={(e) => setHost(e.target.value)}
          placeholder="IP address or DNS name"
          spellCheck={false}
          autoCapitalize="none"
          data-testid="server-host-input"
        />
        <TextField
          label="SSH port"
          type="number"
          min={1}
          max={65535}
          required
          value={port}
          onChange={(e) => setPort(e.target.value)}
          data-testid="server-port-input"
        />
        <TextField
          label="SSH user"
          required
          value={user}
          onChange={(e) => setUser(e.target.value)}
          hint="root, or a user with passwordless sudo."
          autoCapitalize="none"
          data-testid="server-user-input"
        />
      </div>
      <fieldset className="space-y-3">
        <legend className="text-sm font-medium">Sign in with</legend>
        <div className="flex gap-4 text-sm">
          <label className="flex items-center gap-2">
            <input type="radio" name="auth" checked={auth === "key"} onChange={() => setAuth("key")} /> A
            private key
          </label>
          <label className="flex items-center gap-2">
            <input
              type="radio"
              name="auth"
              checked={auth === "password"}
              onChange={() => setAuth("password")}
              data-testid="auth-password"
            />{" "}
            A password
          </label>
        </div>
        {auth === "key" ? (
          <div className="space-y-3">
            <div className="space-y-1">
              <label className="block text-sm font-medium" htmlFor="key-file">
                Private key file
              </label>
              <input
                id="key-file"
                type="file"
                className="block text-sm"
                onChange={(e) => void readKeyFile(e.target.files?.[0])}
                data-testid="key-file"
              />
              {fileNote ? <p className="text-sm text-ink-muted">{fileNote}</p> : null}
            </div>
            <div className="space-y-1">
              <label className="block text-sm font-medium" htmlFor="key-text">
                …or paste it
              </label>
              <textarea
                id="key-text"
                rows={4}
                value={privateKey}
                onChange={(e) => setPrivateKey(e.target.value)}
                placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
                spellCheck={false}
                className="block w-full rounded-md border border-line bg-surface px-3 py-1.5 font-mono text-xs text-ink"
                data-testid="key-text"
              />
            </div>
            <TextField
              label="Passphrase (if the key has one)"
              type="password"
              value={passphrase}
              onChange={(e) => setPassphrase(e.target.value)}
              autoComplete="off"
            />
          </div>
        ) : (
          <TextField
            label="SSH password"
            type="password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete="off"
            data-testid="server-password-input"
          />
        )}
        <p className="text-sm text-ink-muted">
          Credentials are stored encrypted for provisioning and re-provisioning only; you can make oCore
          forget them once the server is active.
        </p>
      </fieldset>
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField
          label="Tags"
          value={tagText}
          onChange={(e) => setTagText(e.target.value)}
          placeholder="env=prod, role=web"
          error={"error" in tags ? tags.error : undefined}
          hint="key=value pairs, separated by commas."
          data-testid="server-tags-input"
        />
        <TextField
          label="Expected host key (optional)"
          value={fingerprint}
          onChange={(e) => setFingerprint(e.target.value)}
          placeholder="SHA256:…"
          spellCheck={false}
          hint={
            <>
              On the host: <code className="font-mono">ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code>
              . Empty: the first key seen is pinned and shown for you to confirm.
            </>
          }
        />
      </div>
      {create.error ? (
        <ActionError error={create.error} action="add the server" testId="add-server-error" />
      ) : null}
      <Button
        type="submit"
        variant="primary"
        aria-disabled={create.isPending}
        data-testid="add-server-submit"
      >
        {create.isPending ? "Adding…" : "Add server and provision it"}
      </Button>
    </form>
  );
}
