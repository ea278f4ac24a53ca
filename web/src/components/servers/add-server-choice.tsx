"use client";

import { useSearchParams } from "next/navigation";
import { useState } from "react";
import { AddServerForm } from "./add-server-form";
import { JoinServerForm } from "./join-server-form";

type Way = "ssh" | "join";

/**
 * Add server: over SSH (oCore connects once and installs the agent), or join from the host (the
 * host runs one command; nothing connects to it). `?join=<server id>` opens the join form for an
 * existing server (a new join command to install it again).
 */
export function AddServerChoice() {
  const rejoin = useSearchParams().get("join") ?? undefined;
  const [way, setWay] = useState<Way>(rejoin ? "join" : "ssh");
  return (
    <div className="space-y-4">
      <fieldset className="flex flex-wrap gap-4 text-sm">
        <legend className="sr-only">How to add the server</legend>
        <label className="flex items-center gap-2">
          <input type="radio" name="way" checked={way === "ssh"} onChange={() => setWay("ssh")} /> oCore
          connects over SSH
        </label>
        <label className="flex items-center gap-2">
          <input
            type="radio"
            name="way"
            checked={way === "join"}
            onChange={() => setWay("join")}
            data-testid="add-server-join"
          />{" "}
          Join from the host (behind NAT or a firewall)
        </label>
      </fieldset>
      {way === "ssh" ? <AddServerForm /> : <JoinServerForm serverId={rejoin} />}
    </div>
  );
}
