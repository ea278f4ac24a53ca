import type { Metadata } from "next";
import { CommandsNav } from "@/components/templates/commands-nav";
import { TemplateList } from "@/components/templates/template-list";
import { serverIdsParam } from "@/lib/run-targets";

export const metadata: Metadata = { title: "Templates" };

export default async function Page({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { servers } = await searchParams;
  return (
    <>
      <header className="space-y-3">
        <h1 className="text-2xl font-semibold tracking-tight">Commands</h1>
        <p className="text-ink-muted">
          Reviewed scripts with typed parameters; each version runs only after a second person approved it.
        </p>
        <CommandsNav />
      </header>
      <TemplateList serverIds={serverIdsParam(servers)} />
    </>
  );
}
