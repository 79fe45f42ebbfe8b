CREATE TABLE "events" (
	"session_id" text NOT NULL,
	"seq" integer NOT NULL,
	"time" bigint NOT NULL,
	"type" text NOT NULL,
	"step_id" text,
	"actor" text NOT NULL,
	"data" text NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "events_session_id_seq_pk" PRIMARY KEY("session_id","seq")
);
--> statement-breakpoint
CREATE TABLE "locks" (
	"scope" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"holder" text NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"reason" text NOT NULL,
	"since" bigint NOT NULL,
	"heartbeat" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"checklist_id" text NOT NULL,
	"checklist_title" text NOT NULL,
	"checklist_text" text NOT NULL,
	"checklist_sources" text NOT NULL,
	"checklist_sha256" text NOT NULL,
	"params" text NOT NULL,
	"environment" text,
	"operator" text NOT NULL,
	"host" text NOT NULL,
	"started_at" bigint NOT NULL,
	"ended_at" bigint,
	"outcome" text,
	"last_seq" integer DEFAULT 0 NOT NULL,
	"last_hash" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "sessions_started_idx" ON "sessions" USING btree ("started_at");