import { stateTone } from "@/lib/template-runs";

const DOT = {
  ok: "bg-success",
  bad: "bg-danger",
  busy: "bg-accent animate-pulse motion-reduce:animate-none",
  idle: "bg-ink-muted",
} as const;

/** A review, run or host state as a dot and its word (the word carries the meaning). */
export function StateBadge({ state, testId }: { state: string; testId?: string }) {
  const tone = state === "approved" ? "ok" : state === "rejected" ? "bad" : stateTone(state);
  return (
    <span
      data-testid={testId}
      data-state={state}
      className={`inline-flex items-center gap-1.5 rounded-full border px-2 py-0.5 text-xs font-medium whitespace-nowrap ${
        tone === "bad" ? "border-danger-line bg-danger-surface text-danger" : "border-line bg-surface"
      }`}
    >
      <span aria-hidden="true" className={`size-2 rounded-full ${DOT[tone]}`} />
      {state.replace("_", " ")}
    </span>
  );
}
