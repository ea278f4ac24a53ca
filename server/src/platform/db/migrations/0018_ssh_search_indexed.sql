DROP INDEX "ssh_session_chunks_search_trgm";--> statement-breakpoint
ALTER TABLE "ssh_session_chunks" ADD COLUMN "search_indexed" boolean DEFAULT true NOT NULL;--> statement-breakpoint
CREATE INDEX "ssh_session_chunks_unindexed" ON "ssh_session_chunks" USING btree ("session_id","seq") WHERE not "ssh_session_chunks"."search_indexed";--> statement-breakpoint
CREATE INDEX "ssh_session_chunks_search_trgm" ON "ssh_session_chunks" USING gin ("search_text" gin_trgm_ops) WHERE "ssh_session_chunks"."search_indexed";