"use client";

import type { Route } from "next";
import Link from "next/link";
import { usePathname } from "next/navigation";

/** `short` is shown at phone widths, where the full labels would not fit in one row. */
type NavItem = { href: Route; label: string; short?: string };

// One entry per top-level page of the console; `typedRoutes` rejects a link to a
// page that does not exist.
const NAV_ITEMS: readonly NavItem[] = [
  { href: "/", label: "Overview" },
  { href: "/servers", label: "Servers" },
  { href: "/instances", label: "Instances" },
  { href: "/alerts", label: "Alerts" },
  { href: "/templates", label: "Commands", short: "Cmds" },
  { href: "/diagnose", label: "Diagnose" },
  { href: "/sessions", label: "Sessions" },
  { href: "/admin/users", label: "Administration", short: "Admin" },
];

function isCurrent(pathname: string, href: Route): boolean {
  if (href === "/") return pathname === "/";
  // Every administration tab lights the one Administration entry.
  const section = href.startsWith("/admin/") ? "/admin" : href;
  // Templates and their runs are one Commands section.
  if (href === "/templates" && (pathname === "/runs" || pathname.startsWith("/runs/"))) return true;
  return pathname === section || pathname.startsWith(`${section}/`);
}

export function MainNav() {
  const pathname = usePathname();
  return (
    <nav aria-label="Main" className="order-last w-full overflow-x-auto sm:order-none sm:w-auto sm:flex-1">
      <ul className="flex gap-1">
        {NAV_ITEMS.map((item) => {
          const current = isCurrent(pathname, item.href);
          return (
            <li key={item.href}>
              <Link
                href={item.href}
                aria-current={current ? "page" : undefined}
                aria-label={item.short ? item.label : undefined}
                className={`block rounded-md px-2.5 py-1.5 text-sm font-medium whitespace-nowrap sm:px-3 ${
                  current
                    ? "bg-surface-muted text-ink"
                    : "text-ink-muted hover:bg-surface-muted hover:text-ink"
                }`}
              >
                {item.short ? (
                  <>
                    <span className="sm:hidden">{item.short}</span>
                    <span className="hidden sm:inline">{item.label}</span>
                  </>
                ) : (
                  item.label
                )}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
