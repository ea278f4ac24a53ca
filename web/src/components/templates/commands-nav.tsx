"use client";

import { TabNav } from "@/components/ui/tab-nav";

/** The command assistant's tabs: the template library and the run history. */
export function CommandsNav() {
  return (
    <TabNav
      label="Commands"
      tabs={[
        { href: "/templates", label: "Templates" },
        { href: "/runs", label: "Runs" },
      ]}
    />
  );
}
