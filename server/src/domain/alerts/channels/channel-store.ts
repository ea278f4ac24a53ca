import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../../platform/db/database.js";
import { alertChannels } from "../../../platform/db/schema/alerts.js";
import type { Queryable } from "../../../platform/db/transaction.js";
import { AppError } from "../../../platform/errors/app-error.js";
import type { MasterKeyring } from "../../../platform/pki/master-key.js";
import type { AuditContext } from "../../audit/audit-context.js";
import { recordAudit } from "../../audit/record-audit.js";
import { parseSelector } from "../../auth/selector.js";
import { parseInput } from "../parse-input.js";
import type { ChannelKind, ChannelSettings, EmailConfig, WebhookConfig } from "./channel-config.js";
import { openChannelSecret, sealChannelSecret } from "./channel-secrets.js";
import { type ChannelSettingsInput, checkChannelSettings } from "./check-channel-settings.js";

export type ChannelRow = typeof alertChannels.$inferSelect;

/** A channel as the API shows it: its settings without any secret. */
export interface ChannelView {
  readonly id: string;
  readonly name: string;
  readonly kind: ChannelKind;
  /** The settings kept in the clear (never a secret; secret URLs show as a hint). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly email: EmailConfig | undefined;
  readonly webhook: WebhookConfig | undefined;
  readonly hasSecret: boolean;
  readonly enabled: boolean;
  /** Routing: servers whose tags match (empty: all), alerts at least this severe. */
  readonly routeSelector: string;
  readonly minSeverity: "warning" | "critical";
  readonly createdAt: Date;
}

/** A channel with its secret opened, for sending. */
export interface OpenChannel {
  readonly id: string;
  readonly name: string;
  readonly settings: ChannelSettings;
}

export interface CreateChannelInput extends ChannelSettingsInput {
  readonly name: string;
  /** Routing; absent: every server, every severity. */
  readonly route?: { readonly selector: string; readonly minSeverity: string };
}

const routeSchema = z
  .object({
    selector: z.string().trim().max(1000, "is longer than 1000 characters"),
    minSeverity: z
      .string()
      .transform((value) => value || "warning")
      .pipe(z.enum(["warning", "critical"], { message: 'must be "warning" or "critical"' })),
  })
  .strict();

const nameSchema = z.string().trim().min(1, "is required").max(100, "is longer than 100 characters");

/** Validates and stores a channel; the secret is sealed with the channel id as associated data. */
export async function createChannel(
  db: Db,
  context: AuditContext,
  keyring: MasterKeyring,
  input: CreateChannelInput,
  now: Date,
): Promise<ChannelView> {
  const name = parseInput(nameSchema, input.name, "name");
  const settings = checkChannelSettings(input);
  const route = parseInput(routeSchema, input.route ?? { selector: "", minSeverity: "" }, "route");
  if (route.selector) parseSelector(route.selector, "route.selector");
  return db.transaction(async (tx) => {
    const [existing] = await tx
      .select({ id: alertChannels.id })
      .from(alertChannels)
      .where(eq(alertChannels.name, name));
    if (existing) throw new AppError("already_exists", `a channel named "${name}" exists`);
    const [created] = await tx
      .insert(alertChannels)
      .values({
        name,
        kind: settings.kind,
        config: settings.config,
        routeSelector: route.selector,
        minSeverity: route.minSeverity,
        createdAt: now,
      })
      .returning();
    if (!created) throw new Error("insert returned no row");
    const sealedSecret = settings.secret ? sealChannelSecret(keyring, created.id, settings.secret) : null;
    const [row] = await tx
      .update(alertChannels)
      .set({ sealedSecret })
      .where(eq(alertChannels.id, created.id))
      .returning();
    const view = toView(row ?? created);
    await recordAudit(
      tx,
      context,
      {
        action: "alert.channel.create",
        targetType: "alert_channel",
        targetId: created.id,
        after: {
          name,
          kind: settings.kind,
          config: settings.config,
          route,
          hasSecret: sealedSecret !== null,
        },
      },
      now,
    );
    return view;
  });
}

export async function listChannels(db: Queryable): Promise<ChannelView[]> {
  return (await db.select().from(alertChannels).orderBy(asc(alertChannels.name))).map(toView);
}

export async function deleteChannel(db: Db, context: AuditContext, id: string, now: Date): Promise<void> {
  AppError.requireId(id);
  await db.transaction(async (tx) => {
    const [deleted] = await tx.delete(alertChannels).where(eq(alertChannels.id, id)).returning();
    if (!deleted) throw AppError.notFound("the channel");
    await recordAudit(
      tx,
      context,
      {
        action: "alert.channel.delete",
        targetType: "alert_channel",
        targetId: id,
        before: { name: deleted.name, kind: deleted.kind, config: deleted.config },
      },
      now,
    );
  });
}

/** The channel with its secret opened, or undefined when it no longer exists. */
export async function openChannel(
  db: Queryable,
  keyring: MasterKeyring,
  id: string,
): Promise<OpenChannel | undefined> {
  const [row] = await db.select().from(alertChannels).where(eq(alertChannels.id, id));
  if (!row) return undefined;
  const secret = row.sealedSecret ? openChannelSecret(keyring, row.id, row.sealedSecret) : "";
  // The row was checked when stored; kind and config go together.
  const settings = { kind: row.kind, config: row.config, secret } as unknown as ChannelSettings;
  return { id: row.id, name: row.name, settings };
}

function toView(row: ChannelRow): ChannelView {
  const kind = row.kind as ChannelView["kind"];
  return {
    id: row.id,
    name: row.name,
    kind,
    config: row.config,
    email: kind === "email" ? (row.config as unknown as EmailConfig) : undefined,
    webhook: kind === "webhook" ? (row.config as unknown as WebhookConfig) : undefined,
    hasSecret: row.sealedSecret !== null,
    enabled: row.enabled,
    routeSelector: row.routeSelector,
    minSeverity: row.minSeverity === "critical" ? "critical" : "warning",
    createdAt: row.createdAt,
  };
}
