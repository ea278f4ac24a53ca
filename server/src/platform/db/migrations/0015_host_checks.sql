CREATE TABLE "host_check_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"server_id" uuid NOT NULL,
	"key" text NOT NULL,
	"subject" text DEFAULT '' NOT NULL,
	"from_state" text DEFAULT '' NOT NULL,
	"to_state" text NOT NULL,
	"message" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "host_check_results" (
	"server_id" uuid NOT NULL,
	"key" text NOT NULL,
	"subject" text DEFAULT '' NOT NULL,
	"state" text NOT NULL,
	"value" double precision,
	"message" text NOT NULL,
	"since" timestamp with time zone NOT NULL,
	"checked_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	CONSTRAINT "host_check_results_server_id_key_subject_pk" PRIMARY KEY("server_id","key","subject"),
	CONSTRAINT "host_check_results_state" CHECK ("host_check_results"."state" in ('ok', 'warning', 'critical', 'unknown'))
);
--> statement-breakpoint
ALTER TABLE "host_check_changes" ADD CONSTRAINT "host_check_changes_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_check_results" ADD CONSTRAINT "host_check_results_server_id_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "host_check_changes_server" ON "host_check_changes" USING btree ("server_id","key","subject","id");