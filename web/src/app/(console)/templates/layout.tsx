import type { ReactNode } from "react";

/** The command assistant's templates: the library, one template, and running it. */
export default function TemplatesLayout({ children }: { children: ReactNode }) {
  return <div className="space-y-6">{children}</div>;
}
