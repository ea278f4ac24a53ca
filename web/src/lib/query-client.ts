import { QueryClient } from "@tanstack/react-query";

/** Creates the TanStack Query client for one browser session of the console. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // The API is on the same origin: one quick retry covers a restart of the
        // control server; more would only delay the error the user needs to see.
        retry: 1,
        staleTime: 10_000,
      },
    },
  });
}
