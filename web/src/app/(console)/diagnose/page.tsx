import type { Metadata } from "next";
import { DiagnosePage } from "@/components/diagnosis/diagnose-page";

export const metadata: Metadata = { title: "Diagnose" };

export default function Page() {
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Diagnose</h1>
        <p className="text-ink-muted">
          Ask what is wrong, naming a server (“why is web-1 slow?”) or a tag selector. The analyzers read the
          servers’ metrics, alerts and instances and answer with the likely cause, its evidence and time
          window, the fixes as reviewed templates, and every check they made.
        </p>
      </header>
      <DiagnosePage />
    </div>
  );
}
