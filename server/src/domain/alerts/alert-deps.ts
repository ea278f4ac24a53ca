import type { Db } from "../../platform/db/database.js";
import type { MasterKeyring } from "../../platform/pki/master-key.js";

/** What the alert use cases behind the API need. */
export interface AlertDeps {
  readonly db: Db;
  /** Seals and opens channel secrets (createChannelKeyring). */
  readonly keyring: MasterKeyring;
  readonly now: () => Date;
  /** How long "send a test" waits for the channel. */
  readonly testTimeoutMs: number;
  /** How often WatchAlerts looks for changes (default 1 s). */
  readonly watchTickMs?: number;
}
