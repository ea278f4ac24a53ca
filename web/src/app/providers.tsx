"use client";

import { TransportProvider } from "@connectrpc/connect-query";
import { QueryClientProvider } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { createQueryClient } from "@/lib/query-client";
import { createApiTransport } from "@/lib/transport";

// The control server serves this console and the Connect API on one origin, so "/"
// is the API's base URL in every deployment. It also renders on the server, where
// `window` does not exist; queries only run in the browser.
const SAME_ORIGIN = "/";

/** Client-side context for every page: the API transport and the query cache. */
export function Providers({ children }: { children: ReactNode }) {
  // One client and transport per browser session, not per render.
  const [queryClient] = useState(createQueryClient);
  const [transport] = useState(() => createApiTransport(SAME_ORIGIN));
  return (
    <TransportProvider transport={transport}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </TransportProvider>
  );
}
