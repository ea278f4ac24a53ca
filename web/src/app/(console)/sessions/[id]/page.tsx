import type { Metadata } from "next";
import Link from "next/link";
import { SessionReplay } from "@/components/sessions/session-replay";

export const metadata: Metadata = { title: "Session replay" };

export default async function SessionPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <Link href="/sessions" className="text-sm text-accent hover:underline">
          ← Sessions
        </Link>
        <h1 className="text-2xl font-semibold tracking-tight">Session replay</h1>
      </header>
      <SessionReplay id={id} />
    </div>
  );
}
