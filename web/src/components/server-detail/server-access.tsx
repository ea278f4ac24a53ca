"use client";

import dynamic from "next/dynamic";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { GatewayConnect } from "./gateway-connect";

// xterm.js needs the browser's window: loaded on the client only, when opened.
const ServerTerminal = dynamic(() => import("./server-terminal").then((module) => module.ServerTerminal), {
  ssr: false,
});

/** Shell access to a server with an agent: the web terminal, and how to connect with ssh. */
export function ServerAccess({ server }: { server: { id: string; name: string; status: string } }) {
  const [open, setOpen] = useState(false);
  if (server.status !== "active" && server.status !== "offline") return null;
  return (
    <section className="space-y-3" aria-labelledby="access-heading">
      <div className="flex flex-wrap items-center gap-3">
        <h2 id="access-heading" className="text-lg font-semibold">
          Shell
        </h2>
        {open ? null : (
          <Button variant="primary" onClick={() => setOpen(true)} data-testid="open-terminal">
            Terminal
          </Button>
        )}
      </div>
      {server.status === "offline" ? (
        <p className="text-sm text-ink-muted">
          The agent is offline: a terminal cannot reach this server until it reconnects.
        </p>
      ) : null}
      {open ? <ServerTerminal serverId={server.id} onClose={() => setOpen(false)} /> : null}
      <details className="rounded-lg border border-line p-3">
        <summary className="cursor-pointer text-sm font-medium" data-testid="connect-summary">
          Connect with ssh, scp or sftp
        </summary>
        <div className="mt-3">
          <GatewayConnect serverName={server.name} />
        </div>
      </details>
    </section>
  );
}
