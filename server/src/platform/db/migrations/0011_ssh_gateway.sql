CREATE TABLE "ssh_gateway_keys" (
	"name" text PRIMARY KEY NOT NULL,
	"server_id" uuid,
	"public_key" text NOT NULL,
	"sealed_private_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "user_ssh_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"algorithm" text NOT NULL,
	"fingerprint" text NOT NULL,
	"public_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "user_ssh_keys_fingerprint_unique" UNIQUE("fingerprint")
);
--> statement-breakpoint
CREATE TABLE "ssh_session_chunks" (
	"session_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"events" text NOT NULL,
	"search_text" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ssh_session_chunks_session_id_seq_pk" PRIMARY KEY("session_id","seq")
);
--> statement-breakpoint
CREATE TABLE "ssh_sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid,
	"username" text NOT NULL,
	"server_id" uuid,
	"server_name" text NOT NULL,
	"login" text NOT NULL,
	"client_address" text DEFAULT '' NOT NULL,
	"kind" text NOT NULL,
	"command" text,
	"cols" integer NOT NULL,
	"rows" integer NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"duration_ms" bigint,
	"bytes_in" bigint DEFAULT 0 NOT NULL,
	"bytes_out" bigint DEFAULT 0 NOT NULL,
	"exit_status" integer,
	"end_reason" text,
	"records_input" boolean DEFAULT false NOT NULL,
	"recording_bytes" bigint DEFAULT 0 NOT NULL,
	"recording_truncated" boolean DEFAULT false NOT NULL,
	"recorded_until" timestamp with time zone DEFAULT now() NOT NULL,
	"end_requested_by" text,
	CONSTRAINT "ssh_sessions_kind" CHECK ("ssh_sessions"."kind" in ('shell', 'exec', 'sftp'))
);
--> statement-breakpoint
ALTER TABLE "role_bindings" ADD COLUMN "ssh_logins" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "ssh_gateway_keys" ADD CONSTRAINT "ssh_gateway_keys_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_ssh_keys" ADD CONSTRAINT "user_ssh_keys_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ssh_session_chunks" ADD CONSTRAINT "ssh_session_chunks_session_id_ssh_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."ssh_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ssh_sessions" ADD CONSTRAINT "ssh_sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ssh_sessions" ADD CONSTRAINT "ssh_sessions_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "user_ssh_keys_user" ON "user_ssh_keys" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "ssh_session_chunks_search_trgm" ON "ssh_session_chunks" USING gin ("search_text" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "ssh_sessions_started" ON "ssh_sessions" USING btree ("started_at","id");--> statement-breakpoint
CREATE INDEX "ssh_sessions_user_started" ON "ssh_sessions" USING btree ("user_id","started_at");--> statement-breakpoint
CREATE INDEX "ssh_sessions_server_started" ON "ssh_sessions" USING btree ("server_id","started_at");--> statement-breakpoint
CREATE INDEX "ssh_sessions_open" ON "ssh_sessions" USING btree ("recorded_until") WHERE "ssh_sessions"."ended_at" is null;