CREATE TABLE "command_output" (
	"command_id" uuid NOT NULL,
	"sequence" bigint NOT NULL,
	"stream" smallint NOT NULL,
	"data" "bytea" NOT NULL,
	CONSTRAINT "command_output_command_id_sequence_pk" PRIMARY KEY("command_id","sequence"),
	CONSTRAINT "command_output_stream" CHECK ("command_output"."stream" between 1 and 3)
);
--> statement-breakpoint
CREATE TABLE "commands" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"server_id" uuid NOT NULL,
	"spec_type" text NOT NULL,
	"spec" "bytea" NOT NULL,
	"state" text DEFAULT 'queued' NOT NULL,
	"deadline" timestamp with time zone NOT NULL,
	"actor_kind" text NOT NULL,
	"actor_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"exit_code" integer DEFAULT 0 NOT NULL,
	"error_code" text,
	"error_message" text,
	"result_type" text,
	"result" "bytea",
	"output_chunks" bigint DEFAULT 0 NOT NULL,
	"output_bytes" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "commands_state" CHECK ("commands"."state" in ('queued', 'sent', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled')),
	CONSTRAINT "commands_actor_kind" CHECK ("commands"."actor_kind" in ('user', 'api_token', 'system'))
);
--> statement-breakpoint
CREATE TABLE "backups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"instance_id" uuid,
	"instance_name" text NOT NULL,
	"server_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"error_message" text DEFAULT '' NOT NULL,
	"storage_key" text NOT NULL,
	"size_bytes" bigint DEFAULT 0 NOT NULL,
	"sha256" text DEFAULT '' NOT NULL,
	"ticket_hash" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "backups_kind" CHECK ("backups"."kind" in ('manual', 'automatic', 'pre_delete', 'pre_restore')),
	CONSTRAINT "backups_state" CHECK ("backups"."state" in ('pending', 'completed', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "instances" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"server_id" uuid NOT NULL,
	"name" text NOT NULL,
	"state" text DEFAULT 'creating' NOT NULL,
	"state_message" text DEFAULT '' NOT NULL,
	"desired_state" text DEFAULT 'running' NOT NULL,
	"odoo_image" text NOT NULL,
	"postgres_image" text NOT NULL,
	"mailpit_image" text NOT NULL,
	"edition" text DEFAULT 'community' NOT NULL,
	"workers" integer DEFAULT 0 NOT NULL,
	"cpu_millis" integer DEFAULT 0 NOT NULL,
	"memory_bytes" bigint DEFAULT 0 NOT NULL,
	"environment" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"base_port" integer NOT NULL,
	"retention_daily" integer DEFAULT 7 NOT NULL,
	"retention_weekly" integer DEFAULT 4 NOT NULL,
	"retention_monthly" integer DEFAULT 6 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "instances_server_name" UNIQUE("server_id","name"),
	CONSTRAINT "instances_state" CHECK ("instances"."state" in ('creating', 'running', 'stopped', 'restarting', 'failed', 'removing')),
	CONSTRAINT "instances_desired_state" CHECK ("instances"."desired_state" in ('running', 'stopped')),
	CONSTRAINT "instances_edition" CHECK ("instances"."edition" in ('community', 'enterprise'))
);
--> statement-breakpoint
CREATE TABLE "port_blocks" (
	"server_id" uuid NOT NULL,
	"base_port" integer NOT NULL,
	"instance_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "port_blocks_server_id_base_port_pk" PRIMARY KEY("server_id","base_port"),
	CONSTRAINT "port_blocks_instance_id_unique" UNIQUE("instance_id"),
	CONSTRAINT "port_blocks_base_port" CHECK ("port_blocks"."base_port" between 1024 and 65525)
);
--> statement-breakpoint
CREATE TABLE "provisioning_jobs" (
	"server_id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"step" text NOT NULL,
	"attempt" integer DEFAULT 1 NOT NULL,
	"run_after" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"installed_at" timestamp with time zone,
	"facts" jsonb,
	"verdicts" jsonb,
	"accepted_requirements" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"planned_instances" integer DEFAULT 1 NOT NULL,
	"force" boolean DEFAULT false NOT NULL,
	"error_reason" text,
	"error_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "provisioning_jobs_kind" CHECK ("provisioning_jobs"."kind" in ('provision', 'remove')),
	CONSTRAINT "provisioning_jobs_state" CHECK ("provisioning_jobs"."state" in ('pending', 'running', 'succeeded', 'failed')),
	CONSTRAINT "provisioning_jobs_step" CHECK ("provisioning_jobs"."step" in ('connect', 'check', 'install', 'wait_agent', 'uninstall', 'cleanup'))
);
--> statement-breakpoint
CREATE TABLE "provisioning_steps" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"server_id" uuid NOT NULL,
	"attempt" integer NOT NULL,
	"step" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"message" text DEFAULT '' NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	CONSTRAINT "provisioning_steps_status" CHECK ("provisioning_steps"."status" in ('running', 'succeeded', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "ssh_credentials" (
	"server_id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"sealed" text NOT NULL,
	"key_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ssh_credentials_kind" CHECK ("ssh_credentials"."kind" in ('password', 'private_key'))
);
--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "host_key_fingerprint" text;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "host_key_algorithm" text;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "pending_host_key_fingerprint" text;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "pending_host_key_algorithm" text;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "install_mode" text;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "install_prefix" text;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "unit_name" text;--> statement-breakpoint
ALTER TABLE "command_output" ADD CONSTRAINT "command_output_command_id_commands_id_fk" FOREIGN KEY ("command_id") REFERENCES "public"."commands"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "commands" ADD CONSTRAINT "commands_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "backups" ADD CONSTRAINT "backups_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "port_blocks" ADD CONSTRAINT "port_blocks_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "port_blocks" ADD CONSTRAINT "port_blocks_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provisioning_jobs" ADD CONSTRAINT "provisioning_jobs_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provisioning_steps" ADD CONSTRAINT "provisioning_steps_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ssh_credentials" ADD CONSTRAINT "ssh_credentials_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "commands_server_created" ON "commands" USING btree ("server_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "commands_open_deadline" ON "commands" USING btree ("deadline") WHERE "commands"."state" in ('queued', 'sent', 'running');--> statement-breakpoint
CREATE INDEX "backups_instance" ON "backups" USING btree ("instance_id","created_at");--> statement-breakpoint
CREATE INDEX "provisioning_jobs_due" ON "provisioning_jobs" USING btree ("state","run_after");--> statement-breakpoint
CREATE INDEX "provisioning_steps_server" ON "provisioning_steps" USING btree ("server_id","started_at");--> statement-breakpoint
ALTER TABLE "servers" ADD CONSTRAINT "servers_install_mode" CHECK ("servers"."install_mode" in ('systemd', 'supervised'));