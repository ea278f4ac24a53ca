import type { ComponentProps } from "react";

/**
 * The console's standard button: a bordered surface, for secondary actions.
 * For a busy state prefer `aria-disabled` over `disabled`: it keeps keyboard focus.
 */
export function Button({ className, type = "button", ...props }: ComponentProps<"button">) {
  return (
    <button
      type={type}
      className={`inline-flex items-center justify-center gap-2 rounded-md border border-line bg-surface px-3 py-1.5 text-sm font-medium text-ink hover:bg-surface-muted disabled:opacity-60 aria-disabled:cursor-wait aria-disabled:opacity-60 ${className ?? ""}`}
      {...props}
    />
  );
}
