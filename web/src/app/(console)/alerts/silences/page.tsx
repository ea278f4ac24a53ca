import type { Metadata } from "next";
import { SilencesPage } from "@/components/alerts/silences-page";

export const metadata: Metadata = { title: "Silences and maintenance" };

export default function Page() {
  return <SilencesPage />;
}
