"use client";

import type { Route } from "next";
import Link from "next/link";
import { usePathname } from "next/navigation";

const TABS: readonly { href: Route; label: string }[] = [
  { href: "/alerts", label: "Alerts" },
  { href: "/alerts/rules" as Route, label: "Rules" },
  { href: "/alerts/channels" as Route, label: "Channels" },
  { href: "/alerts/silences" as Route, label: "Silences and maintenance" },
];

export function AlertsNav() {
  const pathname = usePathname();
  return (
    <nav aria-label="Alerts" className="overflow-x-auto border-b border-line">
      <ul className="flex gap-1">
        {TABS.map((tab) => {
          const current = pathname === tab.href;
          return (
            <li key={tab.href}>
              <Link
                href={tab.href}
                aria-current={current ? "page" : undefined}
                className={`-mb-px block border-b-2 px-3 py-2 text-sm font-medium whitespace-nowrap ${
                  current ? "border-accent text-ink" : "border-transparent text-ink-muted hover:text-ink"
                }`}
              >
                {tab.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
