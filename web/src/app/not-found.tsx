import type { Metadata } from "next";
import Link from "next/link";

export const metadata: Metadata = { title: { absolute: "Page not found · oCore" } };

// Unknown paths reach Next.js through the control server, so this page is what
// a mistyped or outdated console URL shows.
export default function NotFound() {
  return (
    <main id="main" className="mx-auto w-full max-w-5xl space-y-3 px-4 py-6 sm:px-6 sm:py-8">
      <h1 className="text-2xl font-semibold tracking-tight">Page not found</h1>
      <p className="text-ink-muted">This console has no page at this address.</p>
      <Link href="/" className="inline-block font-medium text-accent underline-offset-4 hover:underline">
        Go to the overview
      </Link>
    </main>
  );
}
