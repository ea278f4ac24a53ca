import type { Metadata } from "next";
import { CommandsNav } from "@/components/templates/commands-nav";
import { TemplateList } from "@/components/templates/template-list";

export const metadata: Metadata = { title: "Templates" };

export default function Page() {
  return (
    <>
      <header className="space-y-3">
        <h1 className="text-2xl font-semibold tracking-tight">Commands</h1>
        <p className="text-ink-muted">
          Reviewed scripts with typed parameters; each version runs only after a second person approved it.
        </p>
        <CommandsNav />
      </header>
      <TemplateList />
    </>
  );
}
