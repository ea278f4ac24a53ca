import { Code, type ConnectError } from "@connectrpc/connect";
import { describeApiError } from "@/lib/api-error";

/** What the user can do about a refused action, by the error's code. */
export function nextStepFor(error: ConnectError): string {
  switch (error.code) {
    case Code.PermissionDenied:
      return "Your roles do not allow this; ask an owner for the permission.";
    case Code.InvalidArgument:
      return "Correct the value and try again.";
    case Code.AlreadyExists:
      return "Choose another name.";
    case Code.NotFound:
      return "It may have been removed meanwhile; reload the page.";
    case Code.FailedPrecondition:
      return "Resolve the condition above, then try again.";
    default:
      return describeApiError(error).kind === "unreachable"
        ? "Check that the control server is running, then try again."
        : "The server log has the details; try again once the cause is fixed.";
  }
}

/** An action's failure in one line: what happened, and what to do next. */
export function ActionError({
  error,
  action,
  testId,
}: {
  error: ConnectError;
  action: string;
  testId?: string;
}) {
  return (
    <p role="alert" className="text-sm text-danger" data-testid={testId ?? "action-error"}>
      <span className="font-medium">Could not {action}:</span> {error.rawMessage.replace(/\.+$/, "")}.{" "}
      {nextStepFor(error)}
    </p>
  );
}
