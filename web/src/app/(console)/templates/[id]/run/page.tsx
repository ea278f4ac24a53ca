import type { Metadata } from "next";
import { RunForm } from "@/components/templates/run-form";
import { serverIdsParam } from "@/lib/run-targets";

export const metadata: Metadata = { title: "Run a template" };

export default async function Page({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { id } = await params;
  const { servers } = await searchParams;
  return <RunForm templateId={id} serverIds={serverIdsParam(servers)} />;
}
