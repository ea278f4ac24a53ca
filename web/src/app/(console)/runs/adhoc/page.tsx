import type { Metadata } from "next";
import { AdhocForm } from "@/components/templates/adhoc-form";
import { CommandsNav } from "@/components/templates/commands-nav";
import { serverIdsParam } from "@/lib/run-targets";

export const metadata: Metadata = { title: "Ad-hoc command" };

export default async function Page({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { servers } = await searchParams;
  return (
    <div className="space-y-6">
      <header className="space-y-3">
        <h1 className="text-2xl font-semibold tracking-tight">Commands</h1>
        <CommandsNav />
      </header>
      <AdhocForm serverIds={serverIdsParam(servers)} />
    </div>
  );
}
