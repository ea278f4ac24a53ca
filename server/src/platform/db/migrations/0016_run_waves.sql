ALTER TABLE "command_runs" DROP CONSTRAINT "command_runs_state";--> statement-breakpoint
ALTER TABLE "command_run_hosts" ADD COLUMN "wave" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "command_runs" ADD COLUMN "canary" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "command_runs" ADD COLUMN "canary_pause" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "command_runs" ADD COLUMN "wave_sizes" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "command_runs" ADD COLUMN "wave" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "command_runs" ADD CONSTRAINT "command_runs_state" CHECK ("command_runs"."state" in ('running', 'paused', 'succeeded', 'failed', 'stopped', 'cancelled'));