CREATE TABLE "diagnosis_conversations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_kind" text NOT NULL,
	"owner_id" text NOT NULL,
	"title" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "diagnosis_turns" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"conversation_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"question" text NOT NULL,
	"input" jsonb NOT NULL,
	"report" jsonb NOT NULL,
	"explanation" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "diagnosis_turns_position" UNIQUE("conversation_id","position")
);
--> statement-breakpoint
ALTER TABLE "diagnosis_turns" ADD CONSTRAINT "diagnosis_turns_conversation_id_diagnosis_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."diagnosis_conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "diagnosis_conversations_owner" ON "diagnosis_conversations" USING btree ("owner_kind","owner_id","updated_at");