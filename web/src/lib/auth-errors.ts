import { Code, type ConnectError } from "@connectrpc/connect";
import { describeApiError } from "./api-error";

/** Why signing in failed, in words for the sign-in form. */
export function describeLoginError(error: ConnectError): string {
  switch (error.code) {
    case Code.Unauthenticated:
      return "Wrong username or password.";
    case Code.ResourceExhausted:
    case Code.PermissionDenied:
      // Locked account, too many attempts, disabled account: the server's words say until when and what to do.
      return sentence(error.rawMessage);
    default:
      break;
  }
  return describeOtherError(error);
}

const PASSWORD_FIELDS: Record<string, string> = {
  currentPassword: "the current password",
  newPassword: "the new password",
};

/** Why changing the password failed: the server names the field (x-ocore-field) and the rule. */
export function describePasswordChangeError(error: ConnectError): string {
  if (error.code !== Code.InvalidArgument) return describeOtherError(error);
  const field = PASSWORD_FIELDS[error.metadata.get("x-ocore-field") ?? ""];
  return sentence(field ? `${field} ${error.rawMessage}` : error.rawMessage);
}

function describeOtherError(error: ConnectError): string {
  const problem = describeApiError(error);
  return problem.kind === "unreachable"
    ? "The control server did not answer. Check that it is running and try again."
    : `The control server answered with an error: ${problem.message}.`;
}

function sentence(text: string): string {
  const trimmed = text.trim().replace(/\.+$/, "");
  return `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}.`;
}
