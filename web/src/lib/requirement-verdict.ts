/** Requirement ids whose failure an admin may accept (the server's ACCEPTABLE_REQUIREMENTS). */
const ACCEPTABLE = new Set(["os", "architecture", "docker", "privileges"]);

interface VerdictLike {
  readonly id: string;
  readonly verdict: string;
  readonly accepted: boolean;
}

/**
 * What to do about a failed requirement, shown next to it: fix the cause and retry, or accept
 * it below and go ahead. Undefined when there is nothing to do (passed, warned, or accepted).
 */
export function acceptanceHint(verdict: VerdictLike, canRetry: boolean): string | undefined {
  if (verdict.verdict !== "fail" || verdict.accepted || !canRetry) return undefined;
  if (!ACCEPTABLE.has(verdict.id)) return "Fix the cause on the host, then retry.";
  return "Fix it on the host and retry, or tick it under “Go ahead without these requirements” below and retry to accept it.";
}

export type MessagePart = { readonly text: string; readonly href?: string };

/** Splits a verdict's message so that the https:// links in it (install guides) can be clickable. */
export function linkParts(message: string): MessagePart[] {
  const parts: MessagePart[] = [];
  let last = 0;
  for (const match of message.matchAll(/https:\/\/[^\s;)]+/g)) {
    const start = match.index ?? 0;
    if (start > last) parts.push({ text: message.slice(last, start) });
    parts.push({ text: match[0], href: match[0] });
    last = start + match[0].length;
  }
  if (last < message.length) parts.push({ text: message.slice(last) });
  return parts;
}
