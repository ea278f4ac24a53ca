"use client";

import { createConnectQueryKey, skipToken, useQuery, useTransport } from "@connectrpc/connect-query";
import { AuthService } from "@ocore/proto/gen/ocore/api/v1/auth_service_pb.js";

/** The signed-in user; pass `enabled: false` when there is certainly no session. */
export function useCurrentUser(enabled = true) {
  return useQuery(AuthService.method.getCurrentUser, enabled ? {} : skipToken, { staleTime: 60_000 });
}

/** The query key of useCurrentUser, to seed it after signing in or refresh it after a change. */
export function useCurrentUserKey() {
  const transport = useTransport();
  return createConnectQueryKey({
    schema: AuthService.method.getCurrentUser,
    transport,
    input: {},
    cardinality: "finite",
  });
}
