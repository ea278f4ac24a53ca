import { Code, type ConnectError } from "@connectrpc/connect";
import { ApiErrorAlert } from "@/components/system/api-error-alert";

/** A list's loading rows. */
export function ListSkeleton({ label, testId }: { label: string; testId?: string }) {
  return (
    <div
      role="status"
      aria-busy="true"
      data-testid={testId}
      className="space-y-2 rounded-lg border border-line bg-surface p-3"
    >
      <span className="sr-only">{label}</span>
      {[0, 1, 2].map((row) => (
        <div
          key={row}
          aria-hidden="true"
          className="h-5 animate-pulse rounded bg-surface-muted motion-reduce:animate-none"
        />
      ))}
    </div>
  );
}

/** A failed list: a refused permission says whom to ask; anything else can be retried. */
export function ListError({
  error,
  permission,
  retrying,
  onRetry,
  testId,
}: {
  error: ConnectError;
  permission: string;
  retrying: boolean;
  onRetry: () => void;
  testId?: string;
}) {
  if (error.code === Code.PermissionDenied) {
    return (
      <p role="alert" className="rounded-lg border border-line bg-surface p-4 text-sm" data-testid={testId}>
        This needs the <code className="font-mono">{permission}</code> permission, which your roles do not
        grant. Ask an owner to bind you a role that has it.
      </p>
    );
  }
  return (
    <ApiErrorAlert
      error={error}
      retrying={retrying}
      onRetry={onRetry}
      staleData={false}
      testId={testId}
      retryTestId={testId ? `${testId}-retry` : undefined}
    />
  );
}
