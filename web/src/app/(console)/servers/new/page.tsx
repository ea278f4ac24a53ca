import type { Metadata } from "next";
import { Suspense } from "react";
import { AddServerChoice } from "@/components/servers/add-server-choice";

export const metadata: Metadata = { title: "Add server" };

export default function AddServerPage() {
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Add server</h1>
        <p className="text-ink-muted">
          oCore connects over SSH once, checks the host, installs its agent, and from then on talks to the
          agent only. For a host oCore cannot reach, join from the host: it runs one command and connects out.
        </p>
      </header>
      <Suspense>
        <AddServerChoice />
      </Suspense>
    </div>
  );
}
