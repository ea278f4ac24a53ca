"use client";

import { TabNav } from "@/components/ui/tab-nav";

/** The command assistant's tabs: the template library, the run history and an ad-hoc command. */
export function CommandsNav() {
  return (
    <TabNav
      label="Commands"
      tabs={[
        { href: "/templates", label: "Templates" },
        { href: "/runs", label: "Runs" },
        { href: "/runs/adhoc", label: "Ad-hoc command" },
      ]}
    />
  );
}
