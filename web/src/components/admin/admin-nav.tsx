import { type Tab, TabNav } from "@/components/ui/tab-nav";

const TABS: readonly Tab[] = [
  { href: "/admin/users", label: "Users and roles" },
  { href: "/admin/tokens", label: "API tokens" },
  { href: "/admin/audit", label: "Audit log" },
];

export function AdminNav() {
  return <TabNav label="Administration" tabs={TABS} />;
}
