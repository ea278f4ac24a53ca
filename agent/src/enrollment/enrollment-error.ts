/** A refusal the operator can act on; its message is the one line the CLI prints. */
export class EnrollmentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EnrollmentError";
  }
}
