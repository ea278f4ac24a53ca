CREATE TABLE "backup_schedules" (
	"instance_id" uuid PRIMARY KEY NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"daily_at_minute" integer,
	"every_hours" integer,
	"next_run_at" timestamp with time zone NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"last_run_at" timestamp with time zone,
	"last_result" text,
	"last_message" text DEFAULT '' NOT NULL,
	"last_backup_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "backup_schedules_frequency" CHECK (("backup_schedules"."daily_at_minute" is null) <> ("backup_schedules"."every_hours" is null)),
	CONSTRAINT "backup_schedules_daily_at" CHECK ("backup_schedules"."daily_at_minute" between 0 and 1439),
	CONSTRAINT "backup_schedules_every_hours" CHECK ("backup_schedules"."every_hours" between 1 and 168),
	CONSTRAINT "backup_schedules_last_result" CHECK ("backup_schedules"."last_result" in ('succeeded', 'failed', 'skipped'))
);
--> statement-breakpoint
ALTER TABLE "backup_schedules" ADD CONSTRAINT "backup_schedules_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "backup_schedules_due" ON "backup_schedules" USING btree ("next_run_at") WHERE "backup_schedules"."enabled";