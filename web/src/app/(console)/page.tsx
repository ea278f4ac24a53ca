import type { Metadata } from "next";
import { FleetSummaryCard } from "@/components/servers/fleet-summary";
import { SystemOverview } from "@/components/system/system-overview";

// The root layout's title template only applies to child segments, not to this page.
export const metadata: Metadata = { title: { absolute: "Overview · oCore" } };

export default function OverviewPage() {
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Overview</h1>
        <p className="text-ink-muted">The control server this console is connected to.</p>
      </header>
      <FleetSummaryCard />
      <SystemOverview />
    </div>
  );
}
