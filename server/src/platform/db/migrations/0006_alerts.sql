CREATE TABLE "alert_channels" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"config" jsonb NOT NULL,
	"sealed_secret" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_channels_name_unique" UNIQUE("name"),
	CONSTRAINT "alert_channels_kind" CHECK ("alert_channels"."kind" in ('email', 'webhook'))
);
--> statement-breakpoint
CREATE TABLE "alert_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"channel_id" uuid NOT NULL,
	"notification_id" uuid,
	"attempt" integer NOT NULL,
	"outcome" text NOT NULL,
	"summary" text NOT NULL,
	"error" text,
	"duration_ms" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "alert_deliveries_outcome" CHECK ("alert_deliveries"."outcome" in ('delivered', 'failed', 'gave_up'))
);
--> statement-breakpoint
CREATE TABLE "alert_leases" (
	"name" text PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_notifications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"channel_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"group_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "alert_notifications_once" UNIQUE("channel_id","idempotency_key"),
	CONSTRAINT "alert_notifications_status" CHECK ("alert_notifications"."status" in ('pending', 'delivering', 'delivered', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "alert_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"metric" text NOT NULL,
	"selector" text DEFAULT '' NOT NULL,
	"comparison" text NOT NULL,
	"threshold" double precision NOT NULL,
	"recovery_threshold" double precision,
	"for_seconds" integer NOT NULL,
	"keep_firing_for_seconds" integer NOT NULL,
	"severity" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_rules_name_unique" UNIQUE("name"),
	CONSTRAINT "alert_rules_comparison" CHECK ("alert_rules"."comparison" in ('>', '>=', '<', '<=')),
	CONSTRAINT "alert_rules_severity" CHECK ("alert_rules"."severity" in ('warning', 'critical'))
);
--> statement-breakpoint
CREATE TABLE "alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"fingerprint" text NOT NULL,
	"rule_key" text NOT NULL,
	"rule_name" text NOT NULL,
	"server_id" uuid NOT NULL,
	"labels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"state" text NOT NULL,
	"severity" text NOT NULL,
	"value" double precision,
	"threshold" double precision,
	"summary" text NOT NULL,
	"action" text NOT NULL,
	"episode" integer DEFAULT 0 NOT NULL,
	"pending_since" timestamp with time zone NOT NULL,
	"firing_since" timestamp with time zone,
	"notified_at" timestamp with time zone,
	"clear_since" timestamp with time zone,
	"resolved_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "alerts_fingerprint_unique" UNIQUE("fingerprint"),
	CONSTRAINT "alerts_state" CHECK ("alerts"."state" in ('pending', 'firing', 'unreachable', 'resolved'))
);
--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_channel_id_alert_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."alert_channels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_notifications" ADD CONSTRAINT "alert_notifications_channel_id_alert_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."alert_channels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_deliveries_channel" ON "alert_deliveries" USING btree ("channel_id","id");--> statement-breakpoint
CREATE INDEX "alert_notifications_due" ON "alert_notifications" USING btree ("next_attempt_at") WHERE "alert_notifications"."status" in ('pending', 'delivering');--> statement-breakpoint
CREATE INDEX "alerts_server" ON "alerts" USING btree ("server_id");