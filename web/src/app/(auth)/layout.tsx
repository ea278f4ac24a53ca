import type { ReactNode } from "react";

/** Signing in and changing the password: one card in the middle, no navigation. */
export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <main id="main" tabIndex={-1} className="grid min-h-dvh place-items-center px-4 py-10 outline-none">
      <div className="w-full max-w-sm space-y-6">
        <p className="text-center text-2xl font-semibold tracking-tight">oCore</p>
        <div className="rounded-lg border border-line bg-surface p-5 shadow-sm sm:p-6">{children}</div>
      </div>
    </main>
  );
}
