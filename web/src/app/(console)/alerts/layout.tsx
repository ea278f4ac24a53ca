import type { ReactNode } from "react";
import { AlertsNav } from "@/components/alerts/alerts-nav";

/** Alerts: the live list, rules, notification channels, silences and maintenance windows. */
export default function AlertsLayout({ children }: { children: ReactNode }) {
  return (
    <div className="space-y-6">
      <header className="space-y-3">
        <h1 className="text-2xl font-semibold tracking-tight">Alerts</h1>
        <AlertsNav />
      </header>
      {children}
    </div>
  );
}
