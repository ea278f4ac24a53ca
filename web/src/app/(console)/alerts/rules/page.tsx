import type { Metadata } from "next";
import { RulesPage } from "@/components/alerts/rules-page";

export const metadata: Metadata = { title: "Alert rules" };

export default function Page() {
  return <RulesPage />;
}
