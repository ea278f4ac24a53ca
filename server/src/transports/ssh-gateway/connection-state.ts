import type ssh2 from "ssh2";
import type { AuditContext } from "../../domain/audit/audit-context.js";
import type { ServerRow } from "../../domain/ssh-gateway/ssh-access.js";
import type { SshIdentity } from "../../domain/ssh-gateway/ssh-identity.js";
import type { SshTarget } from "../../domain/ssh-gateway/ssh-target.js";
import type { GatewayDeps } from "./gateway-deps.js";
import type { Meter } from "./session-relay.js";

/** The host side of one gateway connection, once opened. */
export interface Upstream {
  readonly client: ssh2.Client;
  readonly server: ServerRow;
  readonly login: string;
}

/** What the session channels of one connection share. */
export interface ConnectionState {
  readonly deps: GatewayDeps;
  readonly context: AuditContext;
  readonly clientAddress: string;
  identity: SshIdentity | undefined;
  target: SshTarget | { readonly error: string };
  readonly meter: Meter;
  lastExitStatus: number | null;
  /** Opens (once) the connection to the host the target names. */
  upstream(): Promise<Upstream>;
  /** Ends the connection with a message on every open session's terminal. */
  terminate(message: string): void;
  /** Session channels register to receive the terminate message. */
  readonly notices: Set<(message: string) => void>;
}
