import type { AlertDeps } from "../domain/alerts/alert-deps.js";
import { createAlertEvaluator } from "../domain/alerts/alert-evaluator.js";
import { createChannelKeyring } from "../domain/alerts/channels/channel-secrets.js";
import { notificationPolicyOf } from "../domain/alerts/grouping/notification-policy.js";
import { createOutboxWorker } from "../domain/alerts/outbox/outbox-worker.js";
import type { Config } from "../platform/config/config.js";
import type { Db } from "../platform/db/database.js";
import type { Logger } from "../platform/logging/logger.js";
import { type MasterKeyring, masterKeyFromBase64 } from "../platform/pki/master-key.js";

/**
 * Starts alert evaluation (one replica at a time) and notification delivery (every replica),
 * and returns what the API's AlertService needs.
 */
export function startAlerts(input: {
  readonly config: Config;
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly masterKeyring: MasterKeyring;
}): { readonly deps: AlertDeps; stop(): Promise<void> } {
  const { db, logger, now } = input;
  const keyring = createChannelKeyring([
    input.masterKeyring.current,
    ...input.config.masterKey.previous.map(masterKeyFromBase64),
  ]);
  const outbox = createOutboxWorker({ db, logger, now, keyring });
  const evaluator = createAlertEvaluator({
    db,
    logger,
    now,
    settings: input.config.alerts.builtin,
    everyMs: input.config.alerts.evaluateEverySeconds * 1000,
    notify: notificationPolicyOf(input.config.alerts.notify),
    onQueued: () => outbox.wake(),
  });
  outbox.start();
  evaluator.start();
  return {
    deps: { db, keyring, now, testTimeoutMs: 15_000 },
    async stop() {
      await evaluator.stop();
      await outbox.stop();
    },
  };
}
