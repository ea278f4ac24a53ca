import type { ReactNode } from "react";
import { TopBar } from "@/components/app-shell/top-bar";
import { AuthGuard } from "@/components/auth/auth-guard";

/** The signed-in console: top bar and page, shown once the session is known to be good. */
export default function ConsoleLayout({ children }: { children: ReactNode }) {
  return (
    <AuthGuard>
      <TopBar />
      <main
        id="main"
        tabIndex={-1}
        className="mx-auto w-full max-w-5xl px-4 py-6 outline-none sm:px-6 sm:py-8"
      >
        {children}
      </main>
    </AuthGuard>
  );
}
