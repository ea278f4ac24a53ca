import type { ComponentProps } from "react";

const VARIANTS = {
  /** A bordered surface, for secondary actions. */
  secondary: "border-line bg-surface text-ink hover:bg-surface-muted",
  /** The accent colour, for the one main action of a form. */
  primary: "border-accent bg-accent text-accent-ink hover:opacity-90",
  /** For actions that destroy or revoke something. */
  danger: "border-danger bg-danger text-accent-ink hover:opacity-90",
} as const;

type ButtonProps = ComponentProps<"button"> & { variant?: keyof typeof VARIANTS };

/**
 * The console's standard button.
 * For a busy state prefer `aria-disabled` over `disabled`: it keeps keyboard focus.
 */
export function Button({ className, type = "button", variant = "secondary", ...props }: ButtonProps) {
  return (
    <button
      type={type}
      className={`inline-flex items-center justify-center gap-2 rounded-md border px-3 py-1.5 text-sm font-medium disabled:opacity-60 aria-disabled:cursor-wait aria-disabled:opacity-60 ${VARIANTS[variant]} ${className ?? ""}`}
      {...props}
    />
  );
}
