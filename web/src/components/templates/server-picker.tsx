"use client";

import { useQuery } from "@connectrpc/connect-query";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";

/** Servers to tick as run targets (the first 200 of the fleet), besides or instead of a selector. */
export function ServerPicker({
  picked,
  onChange,
}: {
  picked: readonly string[];
  onChange: (next: string[]) => void;
}) {
  const servers = useQuery(ServerService.method.listServers, { pageSize: 200 });
  return (
    <fieldset className="text-sm">
      <legend className="font-medium">and/or these servers</legend>
      {servers.data ? (
        <ul
          className="mt-1 max-h-40 space-y-1 overflow-auto rounded-md border border-line p-2"
          data-testid="run-server-picker"
        >
          {servers.data.servers.map((s) => (
            <li key={s.id}>
              <label className="flex items-center gap-2">
                <input
                  type="checkbox"
                  checked={picked.includes(s.id)}
                  onChange={(e) =>
                    onChange(e.target.checked ? [...picked, s.id] : picked.filter((id) => id !== s.id))
                  }
                />
                {s.name} <span className="text-xs text-ink-muted">{s.status}</span>
              </label>
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-ink-muted">Loading servers…</p>
      )}
    </fieldset>
  );
}
