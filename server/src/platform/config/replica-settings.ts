import { z } from "zod";
import { listenAddress } from "./setting-schemas.js";

/** Several control-server replicas on one PostgreSQL (OCORE_RELAY_*), decision 0190. */
export const replicaSettings = {
  OCORE_RELAY_ADDR: {
    env: "OCORE_RELAY_ADDR",
    description:
      "Address (host:port) the replica relay listens on, or off. With several replicas on one PostgreSQL each must listen, so an SSH session or live log started on one reaches an agent held by another (mutual TLS with certificates from the installation's CA). Ignored with PGlite.",
    defaultValue: "off",
    secret: false,
    schema: z.union([z.literal("off"), listenAddress]),
  },
  OCORE_RELAY_PUBLIC_ADDR: {
    env: "OCORE_RELAY_PUBLIC_ADDR",
    description:
      "host:port the other replicas dial for this one's relay (default: OCORE_RELAY_ADDR, with this machine's host name when it listens on all addresses).",
    secret: false,
    schema: listenAddress,
  },
} as const;
