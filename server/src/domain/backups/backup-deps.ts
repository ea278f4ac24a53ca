import type { InstanceDeps } from "../instances/instance-deps.js";
import type { BackupStore } from "./backup-store.js";

/** Everything the instance and backup use cases need: the instances' deps and the backup store. */
export interface BackupDeps extends InstanceDeps {
  readonly store: BackupStore;
}
