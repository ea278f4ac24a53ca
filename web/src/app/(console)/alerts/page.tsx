import type { Metadata } from "next";
import { AlertsPage } from "@/components/alerts/alerts-page";

export const metadata: Metadata = { title: "Alerts" };

export default function Page() {
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Alerts</h1>
        <p className="text-ink-muted">
          What is wrong on your servers now. An offline server's other alerts are held as unreachable: one
          “host lost” message instead of one per check.
        </p>
      </header>
      <AlertsPage />
    </div>
  );
}
