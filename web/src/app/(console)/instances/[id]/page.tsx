import type { Metadata } from "next";
import { InstanceDetail } from "@/components/instances/instance-detail";

export const metadata: Metadata = { title: "Instance" };

export default async function InstancePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <InstanceDetail id={id} />;
}
