/** The reason a form was refused, announced as soon as it appears. */
export function FormError({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <p
      role="alert"
      data-testid="form-error"
      className="rounded-md border border-danger-line bg-danger-surface px-3 py-2 text-sm text-danger"
    >
      {message}
    </p>
  );
}
