"use client";

import { TransportProvider } from "@connectrpc/connect-query";
import { QueryClientProvider } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { type ReactNode, useEffect, useRef, useState } from "react";
import { SIGN_IN_PATH, withNext } from "@/lib/auth-paths";
import { createQueryClient } from "@/lib/query-client";
import { createApiTransport } from "@/lib/transport";

// The control server serves this console and the Connect API on one origin, so "/"
// is the API's base URL in every deployment. It also renders on the server, where
// `window` does not exist; queries only run in the browser.
const SAME_ORIGIN = "/";

/** Client-side context for every page: the API transport and the query cache. */
export function Providers({ children }: { children: ReactNode }) {
  const router = useRouter();
  // The transport outlives renders; it reaches the current router through this ref.
  const routerRef = useRef(router);
  useEffect(() => {
    routerRef.current = router;
  }, [router]);

  // One client and transport per browser session, not per render.
  const [queryClient] = useState(createQueryClient);
  const [transport] = useState(() =>
    createApiTransport(SAME_ORIGIN, {
      onSessionEnded: () => {
        const { pathname, search } = window.location;
        if (pathname === SIGN_IN_PATH) return;
        // Nothing of the ended session may stay on screen for the next user.
        queryClient.clear();
        routerRef.current.replace(withNext(SIGN_IN_PATH, pathname + search));
      },
    }),
  );
  return (
    <TransportProvider transport={transport}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </TransportProvider>
  );
}
