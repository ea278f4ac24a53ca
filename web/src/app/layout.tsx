import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { THEME_INIT_SCRIPT } from "@/lib/theme";
import { Providers } from "./providers";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "oCore", template: "%s · oCore" },
  description: "Control plane for Linux servers running Odoo in Docker",
  applicationName: "oCore",
};

export const viewport: Viewport = {
  colorScheme: "light dark",
};

// The page frame (top bar or sign-in card) belongs to the route groups: (console) for
// the signed-in pages, (auth) for signing in and changing the password.
export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    // The theme script may add a class to <html> before React hydrates.
    <html lang="en" suppressHydrationWarning>
      <head>
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: a constant script, see THEME_INIT_SCRIPT */}
        <script dangerouslySetInnerHTML={{ __html: THEME_INIT_SCRIPT }} />
      </head>
      <body className="min-h-dvh">
        <a
          href="#main"
          className="sr-only rounded-md bg-surface px-3 py-2 text-sm font-medium focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-10"
        >
          Skip to content
        </a>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
