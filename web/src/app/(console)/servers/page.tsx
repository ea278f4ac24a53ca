import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { ServerFleet } from "@/components/servers/server-fleet";

export const metadata: Metadata = { title: "Servers" };

export default function ServersPage() {
  return (
    <div className="space-y-6">
      <header className="flex flex-wrap items-end justify-between gap-3">
        <div className="space-y-1">
          <h1 className="text-2xl font-semibold tracking-tight">Servers</h1>
          <p className="text-ink-muted">
            Every server of the fleet, with its status, tags and usage, as it changes.
          </p>
        </div>
        <Link
          href="/servers/new"
          className="rounded-md border border-accent bg-accent px-3 py-1.5 text-sm font-medium text-accent-ink hover:opacity-90"
          data-testid="add-server"
        >
          Add server
        </Link>
      </header>
      {/* Filters, sort and page live in the URL; reading them needs a Suspense boundary. */}
      <Suspense>
        <ServerFleet />
      </Suspense>
    </div>
  );
}
