import type { Metadata } from "next";
import { CommandsNav } from "@/components/templates/commands-nav";
import { RunsList } from "@/components/templates/runs-list";

export const metadata: Metadata = { title: "Runs" };

export default function Page() {
  return (
    <div className="space-y-6">
      <header className="space-y-3">
        <h1 className="text-2xl font-semibold tracking-tight">Commands</h1>
        <CommandsNav />
      </header>
      <RunsList />
    </div>
  );
}
