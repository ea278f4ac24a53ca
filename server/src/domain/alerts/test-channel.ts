import { randomBytes } from "node:crypto";
import type { Db } from "../../platform/db/database.js";
import { alertDeliveries } from "../../platform/db/schema/alerts.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { MasterKeyring } from "../../platform/pki/master-key.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { openChannel } from "./channels/channel-store.js";
import { deliver } from "./channels/deliver.js";
import { testMessage } from "./notification-message.js";

export interface TestSendResult {
  readonly delivered: boolean;
  readonly summary: string;
  readonly error: string | undefined;
  readonly durationMs: number;
}

/**
 * "Send a test": sends a test message through the channel now, writes the attempt to its
 * delivery log and the audit log, and says how it went (a failure is a result, not an error).
 */
export async function testChannel(
  db: Db,
  context: AuditContext,
  input: {
    readonly keyring: MasterKeyring;
    readonly channelId: string;
    readonly timeoutMs: number;
    readonly now: () => Date;
  },
): Promise<TestSendResult> {
  AppError.requireId(input.channelId);
  const channel = await openChannel(db, input.keyring, input.channelId);
  if (!channel) throw AppError.notFound("the channel");
  const started = performance.now();
  let summary = "";
  let error: string | undefined;
  try {
    summary = await deliver(
      channel,
      testMessage(channel.name, input.now(), randomBytes(8).toString("hex")),
      input.timeoutMs,
    );
  } catch (failure) {
    error = (failure as Error).message.slice(0, 1000);
    summary = "test send failed";
  }
  const durationMs = Math.round(performance.now() - started);
  await db.transaction(async (tx) => {
    await tx.insert(alertDeliveries).values({
      channelId: channel.id,
      notificationId: null,
      attempt: 1,
      outcome: error ? "failed" : "delivered",
      summary: `test: ${summary}`,
      error: error ?? null,
      durationMs,
      at: input.now(),
    });
    await recordAudit(
      tx,
      context,
      {
        action: "alert.channel.test",
        targetType: "alert_channel",
        targetId: channel.id,
        result: error ? "failure" : "success",
        detail: error ?? summary,
      },
      input.now(),
    );
  });
  return { delivered: !error, summary, error, durationMs };
}
