"use client";

import { useQuery } from "@connectrpc/connect-query";
import { SystemService } from "@ocore/proto/gen/ocore/api/v1/system_service_pb.js";
import { useCurrentUser } from "@/components/auth/current-user";
import { sshConnectHints } from "@/lib/terminal";

/**
 * How to reach a server with stock OpenSSH through the gateway: the `ssh` command for this user
 * and the gateway's host key as a known_hosts line (SystemService/GetInfo). Nothing when the
 * gateway is off.
 */
export function GatewayConnect({ serverName }: { serverName?: string }) {
  const info = useQuery(SystemService.method.getInfo, {});
  const username = useCurrentUser().data?.user?.username ?? "";
  const gateway = info.data?.sshGateway;
  if (!gateway?.knownHostsLine) {
    return info.data ? (
      <p className="text-sm text-ink-muted" data-testid="gateway-off">
        The SSH gateway is off on this control server (OCORE_SSH_LISTEN_ADDR).
      </p>
    ) : null;
  }
  const hints = sshConnectHints(gateway.knownHostsLine, username, serverName ?? "SERVER");
  return (
    <div className="space-y-2 text-sm" data-testid="gateway-connect">
      {hints ? (
        <div className="space-y-1">
          <p className="font-medium">Connect with ssh</p>
          <pre className="overflow-x-auto rounded bg-surface-muted px-3 py-2" data-testid="gateway-command">
            {hints.command}
          </pre>
          <p className="text-ink-muted">
            Append <code>+login</code> to pick another host account (e.g.{" "}
            <code>
              {username || "you"}+{serverName ?? "SERVER"}+odoo@{hints.host}
            </code>
            ); <code>scp</code>, <code>sftp</code> and <code>-L</code> work too. Sign in with a key from your
            account, or your password.
          </p>
        </div>
      ) : null}
      <div className="space-y-1">
        <p className="font-medium">Gateway host key</p>
        <p className="font-mono text-xs break-all" data-testid="gateway-fingerprint">
          {gateway.hostKeyFingerprint}
        </p>
        <p className="text-ink-muted">Add this line to ~/.ssh/known_hosts:</p>
        <pre
          className="overflow-x-auto rounded bg-surface-muted px-3 py-2 text-xs"
          data-testid="gateway-known-hosts"
        >
          {gateway.knownHostsLine}
        </pre>
      </div>
    </div>
  );
}
