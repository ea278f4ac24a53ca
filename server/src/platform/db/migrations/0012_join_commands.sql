CREATE TABLE "join_commands" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"server_id" uuid NOT NULL,
	"enrollment_token_id" uuid NOT NULL,
	"server_url" text NOT NULL,
	"install_prefix" text NOT NULL,
	"unit_name" text NOT NULL,
	"accepted_requirements" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"planned_instances" integer DEFAULT 1 NOT NULL,
	"created_by" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "join_commands_enrollment_token_id_unique" UNIQUE("enrollment_token_id")
);
--> statement-breakpoint
ALTER TABLE "provisioning_jobs" DROP CONSTRAINT "provisioning_jobs_kind";--> statement-breakpoint
ALTER TABLE "join_commands" ADD CONSTRAINT "join_commands_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "join_commands" ADD CONSTRAINT "join_commands_enrollment_token_id_enrollment_tokens_id_fk" FOREIGN KEY ("enrollment_token_id") REFERENCES "public"."enrollment_tokens"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "join_commands_server" ON "join_commands" USING btree ("server_id","created_at");--> statement-breakpoint
ALTER TABLE "provisioning_jobs" ADD CONSTRAINT "provisioning_jobs_kind" CHECK ("provisioning_jobs"."kind" in ('provision', 'remove', 'join'));