import type { Db } from "../../platform/db/database.js";
import type { Scope } from "../auth/principal.js";
import { type AlertView, listAlerts } from "./list-alerts.js";

/**
 * The alerts the caller may see, now and again whenever they change (an alert's state, value,
 * acknowledgement, or a silence starting or ending), until `signal` aborts. Each tick reads the
 * list (bounded by `limit`) and yields it when it differs from the last one sent: evaluation
 * runs on any replica, so the database is what every replica watches.
 */
export async function* watchAlerts(
  db: Db,
  input: {
    readonly scope: Scope;
    readonly includeResolved: boolean;
    readonly limit: number;
    readonly tickMs: number;
    readonly now: () => Date;
    readonly signal: AbortSignal;
  },
): AsyncGenerator<AlertView[]> {
  let last: string | undefined;
  while (!input.signal.aborted) {
    const list = await listAlerts(db, {
      scope: input.scope,
      includeResolved: input.includeResolved,
      limit: input.limit,
      now: input.now(),
    });
    const key = JSON.stringify(list);
    if (key !== last) {
      last = key;
      yield list;
    }
    await sleep(input.tickMs, input.signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
