import { type ComponentProps, type ReactNode, useId } from "react";

type TextFieldProps = Omit<ComponentProps<"input">, "id"> & {
  label: ReactNode;
  /** Shown under the field; replaced by `error` when there is one. */
  hint?: ReactNode;
  error?: ReactNode;
};

/** A labelled input with its hint or error wired to it for screen readers. */
export function TextField({ label, hint, error, className, ...props }: TextFieldProps) {
  const id = useId();
  const noteId = `${id}-note`;
  const note = error ?? hint;
  return (
    <div className={`space-y-1 ${className ?? ""}`}>
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={note ? noteId : undefined}
        className="block w-full rounded-md border border-line bg-surface px-3 py-1.5 text-ink placeholder:text-ink-muted aria-invalid:border-danger"
        {...props}
      />
      {note ? (
        <p id={noteId} className={`text-sm ${error ? "text-danger" : "text-ink-muted"}`}>
          {note}
        </p>
      ) : null}
    </div>
  );
}
