import Link from "next/link";
import { MainNav } from "./main-nav";
import { ThemeSelect } from "./theme-select";
import { UserMenu } from "./user-menu";

export function TopBar() {
  return (
    <header className="border-b border-line bg-surface">
      <div className="mx-auto flex w-full max-w-5xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3 sm:px-6">
        <Link href="/" className="rounded-sm text-lg font-semibold tracking-tight">
          oCore
        </Link>
        <MainNav />
        <ThemeSelect />
        <UserMenu />
      </div>
    </header>
  );
}
