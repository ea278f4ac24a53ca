import type { Metadata } from "next";
import { Suspense } from "react";
import { AuditLog } from "@/components/admin/audit-log";

export const metadata: Metadata = { title: "Audit log" };

export default function AuditPage() {
  // The filters live in the URL; reading them needs a Suspense boundary in a static page.
  return (
    <Suspense>
      <AuditLog />
    </Suspense>
  );
}
