import type { Metadata } from "next";
import Link from "next/link";
import { TemplateForm } from "@/components/templates/template-form";

export const metadata: Metadata = { title: "New template" };

export default function Page() {
  return (
    <>
      <header className="space-y-1">
        <Link href="/templates" className="text-sm text-accent hover:underline">
          ← Templates
        </Link>
        <h1 className="text-2xl font-semibold tracking-tight">New template</h1>
      </header>
      <TemplateForm />
    </>
  );
}
