import { describeServerStatus, type StatusTone } from "@/lib/server-status";

const DOT: Record<StatusTone, string> = {
  success: "bg-success",
  warning: "bg-warning",
  danger: "bg-danger",
  progress: "bg-accent animate-pulse motion-reduce:animate-none",
  neutral: "bg-ink-muted",
};

/** A server's status as a coloured dot and its word; the word carries the meaning, not the colour. */
export function ServerStatusBadge({ status }: { status: string }) {
  const { label, tone } = describeServerStatus(status);
  return (
    <span
      data-testid="server-status"
      className={`inline-flex items-center gap-1.5 rounded-full border px-2 py-0.5 text-xs font-medium whitespace-nowrap ${
        tone === "danger" ? "border-danger-line bg-danger-surface text-danger" : "border-line bg-surface"
      }`}
    >
      <span aria-hidden="true" className={`size-2 rounded-full ${DOT[tone]}`} />
      {label}
    </span>
  );
}
