import type { Metadata } from "next";
import { ChannelsPage } from "@/components/alerts/channels-page";

export const metadata: Metadata = { title: "Notification channels" };

export default function Page() {
  return <ChannelsPage />;
}
