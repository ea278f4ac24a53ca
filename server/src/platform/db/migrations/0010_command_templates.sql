CREATE TABLE "command_run_hosts" (
	"run_id" uuid NOT NULL,
	"server_id" uuid NOT NULL,
	"server_name" text NOT NULL,
	"position" integer NOT NULL,
	"state" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"argv" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"env" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"command_id" uuid,
	"exit_code" integer DEFAULT 0 NOT NULL,
	"sandbox" text DEFAULT '' NOT NULL,
	"output" text DEFAULT '' NOT NULL,
	"output_bytes" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"errors_at_dispatch" integer,
	CONSTRAINT "command_run_hosts_run_id_server_id_pk" PRIMARY KEY("run_id","server_id"),
	CONSTRAINT "command_run_hosts_state" CHECK ("command_run_hosts"."state" in ('pending', 'dispatching', 'running', 'succeeded', 'failed', 'timed_out', 'unreachable', 'cancelled', 'skipped', 'refused'))
);
--> statement-breakpoint
CREATE TABLE "command_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"template_id" uuid NOT NULL,
	"version_id" uuid NOT NULL,
	"parameters" jsonb NOT NULL,
	"concurrency" integer NOT NULL,
	"max_errors" integer NOT NULL,
	"state" text DEFAULT 'running' NOT NULL,
	"stop_reason" text DEFAULT '' NOT NULL,
	"actor_kind" text NOT NULL,
	"actor_id" text,
	"actor_name" text NOT NULL,
	"rerun_of" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	CONSTRAINT "command_runs_state" CHECK ("command_runs"."state" in ('running', 'succeeded', 'failed', 'stopped', 'cancelled')),
	CONSTRAINT "command_runs_rate" CHECK ("command_runs"."concurrency" >= 1 and "command_runs"."max_errors" >= 0)
);
--> statement-breakpoint
CREATE TABLE "command_template_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"template_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"hash" text NOT NULL,
	"definition" jsonb NOT NULL,
	"author_kind" text NOT NULL,
	"author_id" text,
	"author_name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"review_state" text DEFAULT 'pending' NOT NULL,
	"reviewer_id" text,
	"reviewer_name" text,
	"reviewed_at" timestamp with time zone,
	"review_note" text DEFAULT '' NOT NULL,
	CONSTRAINT "command_template_versions_number" UNIQUE("template_id","version"),
	CONSTRAINT "command_template_versions_review" CHECK ("command_template_versions"."review_state" in ('pending', 'approved', 'rejected'))
);
--> statement-breakpoint
CREATE TABLE "command_templates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"key" text NOT NULL,
	"builtin" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "command_templates_key_unique" UNIQUE("key")
);
--> statement-breakpoint
ALTER TABLE "command_run_hosts" ADD CONSTRAINT "command_run_hosts_run_id_command_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."command_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "command_run_hosts" ADD CONSTRAINT "command_run_hosts_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "command_run_hosts" ADD CONSTRAINT "command_run_hosts_command_id_commands_id_fk" FOREIGN KEY ("command_id") REFERENCES "public"."commands"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "command_runs" ADD CONSTRAINT "command_runs_template_id_command_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."command_templates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "command_runs" ADD CONSTRAINT "command_runs_version_id_command_template_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."command_template_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "command_template_versions" ADD CONSTRAINT "command_template_versions_template_id_command_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."command_templates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "command_run_hosts_order" ON "command_run_hosts" USING btree ("run_id","state","position");--> statement-breakpoint
CREATE INDEX "command_run_hosts_command" ON "command_run_hosts" USING btree ("command_id");--> statement-breakpoint
CREATE INDEX "command_runs_created" ON "command_runs" USING btree ("created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "command_runs_open" ON "command_runs" USING btree ("lease_until") WHERE "command_runs"."state" = 'running';