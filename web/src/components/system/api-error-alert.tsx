import type { ConnectError } from "@connectrpc/connect";
import { Button } from "@/components/ui/button";
import { describeApiError } from "@/lib/api-error";

type ApiErrorAlertProps = {
  error: ConnectError;
  retrying: boolean;
  onRetry: () => void;
  /** True when older data is still on screen below the alert. */
  staleData: boolean;
  /** Stable hooks for browser tests. */
  testId?: string;
  retryTestId?: string;
};

/** Says what went wrong with a call to the control server and what to do about it. */
export function ApiErrorAlert({
  error,
  retrying,
  onRetry,
  staleData,
  testId = "server-info-error",
  retryTestId = "server-info-retry",
}: ApiErrorAlertProps) {
  const problem = describeApiError(error);
  return (
    <div
      role="alert"
      data-testid={testId}
      className="space-y-3 rounded-lg border border-danger-line bg-danger-surface p-4 text-sm"
    >
      {problem.kind === "unreachable" ? (
        <p>
          <strong className="font-semibold text-danger">The control server did not answer:</strong>{" "}
          {problem.message}. Check that <code className="font-mono">npm start</code> is running and reload.
        </p>
      ) : (
        <p>
          <strong className="font-semibold text-danger">The control server answered with an error:</strong>{" "}
          {problem.message}. Its log has the details; retry once the cause is fixed.
        </p>
      )}
      {staleData ? <p className="text-ink-muted">The information below is from the last answer.</p> : null}
      <Button onClick={retrying ? undefined : onRetry} aria-disabled={retrying} data-testid={retryTestId}>
        {retrying ? "Retrying…" : "Retry"}
      </Button>
    </div>
  );
}
