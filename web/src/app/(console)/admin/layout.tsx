import type { ReactNode } from "react";
import { AdminNav } from "@/components/admin/admin-nav";

/** Administration: users and roles, API tokens, the audit log. */
export default function AdminLayout({ children }: { children: ReactNode }) {
  return (
    <div className="space-y-6">
      <header className="space-y-3">
        <h1 className="text-2xl font-semibold tracking-tight">Administration</h1>
        <AdminNav />
      </header>
      {children}
    </div>
  );
}
