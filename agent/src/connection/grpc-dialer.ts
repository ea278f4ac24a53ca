import type { IdentityStore } from "../identity/identity-store.js";
import type { Dialer } from "./agent-link.js";
import { openAgentStream } from "./grpc-clients.js";
import type { ServerAddress } from "./server-address.js";

/** Dials with the credentials on disk at that moment, so a renewed certificate is used at once. */
export function createGrpcDialer(options: { address: ServerAddress; store: IdentityStore }): Dialer {
  return {
    async dial() {
      return openAgentStream(options.address, await options.store.load());
    },
  };
}
