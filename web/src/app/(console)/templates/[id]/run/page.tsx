import type { Metadata } from "next";
import { RunForm } from "@/components/templates/run-form";

export const metadata: Metadata = { title: "Run a template" };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <RunForm templateId={id} />;
}
