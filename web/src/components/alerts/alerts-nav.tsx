import type { Route } from "next";
import { type Tab, TabNav } from "@/components/ui/tab-nav";

const TABS: readonly Tab[] = [
  { href: "/alerts", label: "Alerts" },
  { href: "/alerts/rules" as Route, label: "Rules" },
  { href: "/alerts/channels" as Route, label: "Channels" },
  { href: "/alerts/deliveries" as Route, label: "Delivery log" },
  { href: "/alerts/silences" as Route, label: "Silences and maintenance" },
];

export function AlertsNav() {
  return <TabNav label="Alerts" tabs={TABS} />;
}
