CREATE TABLE "alert_acknowledgements" (
	"alert_id" uuid PRIMARY KEY NOT NULL,
	"episode" integer NOT NULL,
	"by" text NOT NULL,
	"comment" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_notify_groups" (
	"group_key" text PRIMARY KEY NOT NULL,
	"server_id" uuid NOT NULL,
	"told" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"flaps" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"change_since" timestamp with time zone,
	"last_flush_at" timestamp with time zone,
	"last_firing_sent_at" timestamp with time zone,
	"seq" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_silences" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"rule_key" text,
	"server_id" uuid,
	"selector" text DEFAULT '' NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"comment" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"ended_by" text,
	CONSTRAINT "alert_silences_kind" CHECK ("alert_silences"."kind" in ('silence', 'maintenance')),
	CONSTRAINT "alert_silences_window" CHECK ("alert_silences"."ends_at" > "alert_silences"."starts_at")
);
--> statement-breakpoint
ALTER TABLE "alert_channels" DROP CONSTRAINT "alert_channels_kind";--> statement-breakpoint
ALTER TABLE "alert_channels" ADD COLUMN "route_selector" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_channels" ADD COLUMN "min_severity" text DEFAULT 'warning' NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_acknowledgements" ADD CONSTRAINT "alert_acknowledgements_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_notify_groups" ADD CONSTRAINT "alert_notify_groups_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_silences" ADD CONSTRAINT "alert_silences_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_silences_ends" ON "alert_silences" USING btree ("ends_at");--> statement-breakpoint
ALTER TABLE "alert_channels" ADD CONSTRAINT "alert_channels_min_severity" CHECK ("alert_channels"."min_severity" in ('warning', 'critical'));--> statement-breakpoint
ALTER TABLE "alert_channels" ADD CONSTRAINT "alert_channels_kind" CHECK ("alert_channels"."kind" in ('email', 'webhook', 'slack', 'discord', 'teams', 'telegram', 'ntfy', 'pagerduty'));