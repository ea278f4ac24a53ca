import type { Metadata } from "next";
import { InstancesPage } from "@/components/instances/instances-page";

export const metadata: Metadata = { title: "Instances" };

export default function Page() {
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Instances</h1>
        <p className="text-ink-muted">
          Odoo instances on your servers: each with its database, mail catcher and ports.
        </p>
      </header>
      <InstancesPage />
    </div>
  );
}
