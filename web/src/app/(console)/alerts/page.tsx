import type { Metadata } from "next";
import { AlertsPage } from "@/components/alerts/alerts-page";

export const metadata: Metadata = { title: "Alerts" };

export default function Page() {
  return (
    <div className="space-y-4">
      <p className="text-ink-muted">
        What is wrong on your servers now, live. An offline server's other alerts are held as unreachable: one
        “host lost” message instead of one per check.
      </p>
      <AlertsPage />
    </div>
  );
}
