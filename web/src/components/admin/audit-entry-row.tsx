import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { AuditEntry } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { formatTimestamp } from "@/lib/format";

function Json({ label, text }: { label: string; text: string }) {
  if (!text) return null;
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // Shown as stored.
  }
  return (
    <div className="min-w-0">
      <p className="text-xs font-medium text-ink-muted">{label}</p>
      <pre className="mt-1 max-h-60 overflow-auto rounded-md bg-surface-muted p-2 font-mono text-xs">
        {pretty}
      </pre>
    </div>
  );
}

/** One audit entry: when, who, what, on what, the result; details on demand. */
export function AuditEntryRow({ entry }: { entry: AuditEntry }) {
  const failed = entry.result !== "success";
  return (
    <li data-testid="audit-entry" className="text-sm">
      <details className="group">
        <summary className="grid cursor-pointer grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 px-4 py-2.5 hover:bg-surface-muted sm:grid-cols-[11rem_8rem_1fr_6rem]">
          <span className="text-xs text-ink-muted tabular-nums sm:text-sm">
            {entry.at ? (
              <time dateTime={timestampDate(entry.at).toISOString()}>{formatTimestamp(entry.at)}</time>
            ) : null}
          </span>
          <span className="truncate">{entry.actorName || entry.actorType}</span>
          <span className="min-w-0 truncate font-mono text-xs sm:text-sm" data-testid="audit-action">
            {entry.action}
            {entry.targetId ? (
              <span className="text-ink-muted">
                {" "}
                · {entry.targetType} {entry.targetId.slice(0, 36)}
              </span>
            ) : null}
          </span>
          <span className={`text-xs font-medium sm:text-right ${failed ? "text-danger" : "text-success"}`}>
            {entry.result}
          </span>
        </summary>
        <div className="space-y-3 border-t border-line bg-canvas px-4 py-3">
          <p className="text-xs text-ink-muted">
            Entry #{entry.id.toString()} · from {entry.sourceIp || "unknown address"}
            {entry.userAgent ? ` · ${entry.userAgent}` : ""}
          </p>
          {entry.detail ? <p>{entry.detail}</p> : null}
          <div className="grid gap-3 md:grid-cols-2">
            <Json label="Before" text={entry.beforeJson} />
            <Json label="After" text={entry.afterJson} />
          </div>
          <p className="font-mono text-xs break-all text-ink-muted">hash {entry.hash}</p>
        </div>
      </details>
    </li>
  );
}
