import type { Db } from "../../platform/db/database.js";
import { alertLeases } from "../../platform/db/schema/alerts.js";
import type { Logger } from "../../platform/logging/logger.js";
import { workerOwnerId } from "../../platform/workers/leased-worker.js";
import { claimLeadership, releaseLeadership } from "../../platform/workers/leases.js";
import type { BuiltinRuleSettings } from "./alert-types.js";
import { type EvaluationResult, evaluateAlerts } from "./evaluate-alerts.js";
import type { NotificationPolicy } from "./grouping/notification-policy.js";

export interface AlertEvaluator {
  readonly owner: string;
  start(): void;
  /** Runs one cycle now if this process holds (or can take) the lease; undefined when another does. */
  runOnce(): Promise<EvaluationResult | undefined>;
  stop(): Promise<void>;
}

export interface AlertEvaluatorOptions {
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly settings: BuiltinRuleSettings;
  readonly everyMs: number;
  /** When grouped notifications go out; none: every change at once. */
  readonly notify?: NotificationPolicy;
  /** Called after a cycle that queued notifications (wakes the outbox worker). */
  readonly onQueued?: () => void;
}

const LEASE = "alert-evaluation";

/** Evaluates the alert rules every `everyMs`, on one replica at a time. */
export function createAlertEvaluator(options: AlertEvaluatorOptions): AlertEvaluator {
  const { db, now, everyMs } = options;
  const owner = workerOwnerId();
  const logger = options.logger.child({ component: "alert-evaluator", owner });
  // Three missed cycles before another replica takes over.
  const leaseMs = everyMs * 3;
  // A sample older than this is no basis for a judgement (agents send one every few seconds).
  const maxSampleAgeMs = Math.max(120_000, everyMs * 6);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let failing = false;

  async function runOnce(): Promise<EvaluationResult | undefined> {
    if (!(await claimLeadership(db, alertLeases, { name: LEASE, owner, leaseMs, now: now() })))
      return undefined;
    const result = await evaluateAlerts(db, {
      now: now(),
      settings: options.settings,
      maxSampleAgeMs,
      notify: options.notify,
    });
    if (result.events > 0) logger.info(result, "alerts changed");
    if (result.notifications > 0) options.onQueued?.();
    return result;
  }

  const tick = () => {
    if (stopped) return;
    running = runOnce()
      .then(() => {
        if (failing) logger.info("alert evaluation works again");
        failing = false;
      })
      .catch((error: unknown) => {
        if (!failing) logger.error({ err: error }, "alert evaluation failed; retrying every cycle");
        failing = true;
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };

  return {
    owner,
    start() {
      logger.info({ everyMs }, "alert evaluator started");
      tick();
    },
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await releaseLeadership(db, alertLeases, { name: LEASE, owner }).catch((error: unknown) =>
        logger.warn({ err: error }, "could not release the alert evaluation lease"),
      );
    },
  };
}
