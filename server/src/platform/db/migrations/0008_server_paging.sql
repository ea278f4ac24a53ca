CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "cpu_percent" real;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "memory_percent" real;--> statement-breakpoint
ALTER TABLE "servers" ADD COLUMN "disk_percent" real;--> statement-breakpoint
CREATE INDEX "servers_status_name" ON "servers" USING btree ("status","name");--> statement-breakpoint
CREATE INDEX "servers_last_seen_name" ON "servers" USING btree (coalesce("last_seen_at", '-infinity'::timestamptz),"name");--> statement-breakpoint
CREATE INDEX "servers_cpu_name" ON "servers" USING btree (coalesce("cpu_percent", -1),"name");--> statement-breakpoint
CREATE INDEX "servers_memory_name" ON "servers" USING btree (coalesce("memory_percent", -1),"name");--> statement-breakpoint
CREATE INDEX "servers_disk_name" ON "servers" USING btree (coalesce("disk_percent", -1),"name");--> statement-breakpoint
CREATE INDEX "servers_name_trgm" ON "servers" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "servers_host_trgm" ON "servers" USING gin ("host" gin_trgm_ops);