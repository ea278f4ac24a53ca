"use client";

import type { ConnectError } from "@connectrpc/connect";
import { useQuery } from "@connectrpc/connect-query";
import { SystemService } from "@ocore/proto/gen/ocore/api/v1/system_service_pb.js";
import { useState } from "react";
import { ApiErrorAlert } from "./api-error-alert";
import { ServerInfoList } from "./server-info-list";
import { ServerInfoSkeleton } from "./server-info-skeleton";

// Keeps the uptime current and notices when the control server goes away or comes back.
const REFRESH_INTERVAL_MS = 30_000;

/** The Overview card about the control server: loading, then its info, with any error above it. */
export function SystemOverview() {
  const info = useQuery(SystemService.method.getInfo, {}, { refetchInterval: REFRESH_INTERVAL_MS });

  // TanStack Query clears `error` while it retries a query that never succeeded. Keep
  // the last error on screen until an answer arrives, so the alert and the focused
  // Retry button do not vanish under the user.
  const [shownError, setShownError] = useState<ConnectError | null>(null);
  const error = info.error ?? (info.isFetching ? shownError : null);
  if (error !== shownError) {
    setShownError(error);
  }

  return (
    <section aria-labelledby="control-server-heading" className="space-y-4">
      <h2 id="control-server-heading" className="text-lg font-semibold">
        Control server
      </h2>
      {error ? (
        <ApiErrorAlert
          error={error}
          retrying={info.isFetching}
          onRetry={() => void info.refetch()}
          staleData={info.data !== undefined}
        />
      ) : null}
      {info.data ? <ServerInfoList info={info.data} /> : error ? null : <ServerInfoSkeleton />}
    </section>
  );
}
