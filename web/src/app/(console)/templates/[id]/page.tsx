import type { Metadata } from "next";
import { TemplateDetail } from "@/components/templates/template-detail";

export const metadata: Metadata = { title: "Template" };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <TemplateDetail id={id} />;
}
