import type { Metadata } from "next";
import { ServerFleet } from "@/components/servers/server-fleet";

export const metadata: Metadata = { title: "Servers" };

export default function ServersPage() {
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Servers</h1>
        <p className="text-ink-muted">Every server of the fleet, with its status and tags.</p>
      </header>
      <ServerFleet />
    </div>
  );
}
