"use client";

import { useState } from "react";
import { Button } from "./button";

/** A secret the server shows only once: the value, a copy button and the warning to store it now. */
export function SecretOnce({
  title,
  value,
  note,
  onDone,
  testId,
}: {
  title: string;
  value: string;
  note: string;
  onDone: () => void;
  testId?: string;
}) {
  const [copied, setCopied] = useState<"yes" | "failed" | undefined>();
  return (
    <div
      role="status"
      className="space-y-3 rounded-lg border border-accent bg-surface p-4"
      data-testid={testId}
    >
      <p className="font-medium">{title}</p>
      <p className="text-sm text-ink-muted">{note}</p>
      <div className="flex flex-wrap items-center gap-2">
        <code
          className="min-w-0 flex-1 rounded-md border border-line bg-surface-muted px-3 py-1.5 font-mono text-sm break-all"
          data-testid="secret-value"
        >
          {value}
        </code>
        <Button
          onClick={() =>
            navigator.clipboard
              .writeText(value)
              .then(() => setCopied("yes"))
              .catch(() => setCopied("failed"))
          }
        >
          {copied === "yes" ? "Copied" : "Copy"}
        </Button>
        <Button onClick={onDone}>Done</Button>
      </div>
      {copied === "failed" ? (
        <p className="text-sm text-danger">
          The browser refused the clipboard; select the text and copy it by hand.
        </p>
      ) : null}
    </div>
  );
}
