import type { Metadata } from "next";
import { SessionsPage } from "@/components/sessions/sessions-page";

export const metadata: Metadata = { title: "Sessions" };

export default function Page() {
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">SSH sessions</h1>
        <p className="text-ink-muted">
          Every session through the SSH gateway and the web terminal, recorded as it happens: who, where, as
          which login. Replay one, search what was printed, or end a live one.
        </p>
      </header>
      <SessionsPage />
    </div>
  );
}
