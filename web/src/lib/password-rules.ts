/** The control server refuses shorter passwords (and longer than 256 characters). */
export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 256;

/** What is wrong with a new password before it is sent, or undefined when nothing is. */
export function checkNewPassword(current: string, next: string, repeated: string): string | undefined {
  if (next.length < MIN_PASSWORD_LENGTH) {
    return `The new password must be at least ${MIN_PASSWORD_LENGTH} characters long.`;
  }
  if (next.length > MAX_PASSWORD_LENGTH) {
    return `The new password must be at most ${MAX_PASSWORD_LENGTH} characters long.`;
  }
  if (next === current) return "The new password must differ from the current one.";
  if (next !== repeated) return "The two new passwords differ; type the same one twice.";
  return undefined;
}
