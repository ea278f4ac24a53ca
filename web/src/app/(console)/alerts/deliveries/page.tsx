import type { Metadata } from "next";
import { DeliveriesPage } from "@/components/alerts/deliveries-page";

export const metadata: Metadata = { title: "Delivery log" };

export default function Page() {
  return <DeliveriesPage />;
}
