CREATE TABLE "areas" (
	"code" text PRIMARY KEY NOT NULL,
	"level" smallint NOT NULL,
	"parent_code" text,
	"name" text NOT NULL,
	"lat" double precision,
	"lon" double precision
);
--> statement-breakpoint
CREATE TABLE "tps" (
	"code" text PRIMARY KEY NOT NULL,
	"desa_code" text NOT NULL,
	"kec_code" text NOT NULL,
	"kab_code" text NOT NULL,
	"prov_code" text NOT NULL,
	"number" integer NOT NULL,
	"voters_l" integer NOT NULL,
	"voters_p" integer NOT NULL,
	"is_special" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "candidates" (
	"id" text PRIMARY KEY NOT NULL,
	"contest_id" text NOT NULL,
	"number" integer NOT NULL,
	"head_name" text NOT NULL,
	"deputy_name" text NOT NULL,
	"colour" text NOT NULL,
	"is_empty_column" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contests" (
	"id" text PRIMARY KEY NOT NULL,
	"election_id" text NOT NULL,
	"type" text NOT NULL,
	"area_code" text NOT NULL,
	"name" text NOT NULL,
	"tps_expected" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "elections" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"polling_date" date NOT NULL,
	"is_practice" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tokens" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"token_hash" text NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"last_seen_at" timestamp with time zone,
	CONSTRAINT "tokens_tokenHash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"scope_code" text,
	"password_hash" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "area_tallies" (
	"contest_id" text NOT NULL,
	"area_code" text NOT NULL,
	"tps_expected" integer DEFAULT 0 NOT NULL,
	"tps_published" integer DEFAULT 0 NOT NULL,
	"tps_quarantined" integer DEFAULT 0 NOT NULL,
	"votes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"suara_sah" bigint DEFAULT 0 NOT NULL,
	"suara_tidak_sah" bigint DEFAULT 0 NOT NULL,
	"voters_registered" bigint DEFAULT 0 NOT NULL,
	"voters_used" bigint DEFAULT 0 NOT NULL,
	"quarantined_votes" bigint DEFAULT 0 NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "area_tallies_contest_id_area_code_pk" PRIMARY KEY("contest_id","area_code")
);
--> statement-breakpoint
CREATE TABLE "changes" (
	"version" bigserial PRIMARY KEY NOT NULL,
	"contest_id" text NOT NULL,
	"tps_code" text NOT NULL,
	"area_codes" text[] NOT NULL,
	"kind" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "corrections" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tps_code" text NOT NULL,
	"contest_id" text NOT NULL,
	"stage" text NOT NULL,
	"values" jsonb NOT NULL,
	"reason" text NOT NULL,
	"base_version" integer,
	"proposed_by" bigint NOT NULL,
	"proposed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"approved_by" bigint,
	"approved_at" timestamp with time zone,
	"state" text DEFAULT 'pending' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "photos" (
	"sha256" text PRIMARY KEY NOT NULL,
	"byte_size" integer NOT NULL,
	"mime" text NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"stored_path" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "readings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"submission_id" bigint NOT NULL,
	"reader_version" text NOT NULL,
	"page" text,
	"cls" text NOT NULL,
	"alignment_score" double precision,
	"values" jsonb NOT NULL,
	"detail" jsonb NOT NULL,
	"reject_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "submissions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"photo_sha256" text NOT NULL,
	"tps_code" text NOT NULL,
	"contest_id" text NOT NULL,
	"page" text,
	"source" text DEFAULT 'kpps' NOT NULL,
	"uploader_id" bigint,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text DEFAULT 'received' NOT NULL,
	"status_reason" text
);
--> statement-breakpoint
CREATE TABLE "tps_results" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tps_code" text NOT NULL,
	"contest_id" text NOT NULL,
	"version" integer NOT NULL,
	"stage" text NOT NULL,
	"status" text NOT NULL,
	"is_current" boolean DEFAULT true NOT NULL,
	"values" jsonb NOT NULL,
	"votes" jsonb NOT NULL,
	"suara_sah" integer,
	"suara_tidak_sah" integer,
	"rules" jsonb NOT NULL,
	"reading_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"correction_id" bigint,
	"created_by" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "anomalies" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"dedupe_key" text NOT NULL,
	"rule" text NOT NULL,
	"kind" text NOT NULL,
	"contest_id" text,
	"tps_code" text,
	"area_code" text NOT NULL,
	"severity" double precision DEFAULT 0 NOT NULL,
	"detail" jsonb NOT NULL,
	"submission_id" bigint,
	"status" text DEFAULT 'active' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_id" bigint,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"entity" text NOT NULL,
	"entity_id" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"photo_sha256" text,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "case_notes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"case_id" bigint NOT NULL,
	"author_id" bigint,
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cases" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tps_code" text NOT NULL,
	"contest_id" text NOT NULL,
	"area_code" text NOT NULL,
	"state" text DEFAULT 'OPEN' NOT NULL,
	"severity" double precision DEFAULT 0 NOT NULL,
	"assignee_id" bigint,
	"resolution" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "source_results" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"tps_code" text NOT NULL,
	"contest_id" text NOT NULL,
	"values" jsonb NOT NULL,
	"source_ts" text,
	"imported_from" text,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meta" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_limits" (
	"key" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rate_limits_key_window_start_pk" PRIMARY KEY("key","window_start")
);
--> statement-breakpoint
ALTER TABLE "candidates" ADD CONSTRAINT "candidates_contest_id_contests_id_fk" FOREIGN KEY ("contest_id") REFERENCES "public"."contests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contests" ADD CONSTRAINT "contests_election_id_elections_id_fk" FOREIGN KEY ("election_id") REFERENCES "public"."elections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contests" ADD CONSTRAINT "contests_area_code_areas_code_fk" FOREIGN KEY ("area_code") REFERENCES "public"."areas"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tokens" ADD CONSTRAINT "tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "corrections" ADD CONSTRAINT "corrections_proposed_by_users_id_fk" FOREIGN KEY ("proposed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "corrections" ADD CONSTRAINT "corrections_approved_by_users_id_fk" FOREIGN KEY ("approved_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "readings" ADD CONSTRAINT "readings_submission_id_submissions_id_fk" FOREIGN KEY ("submission_id") REFERENCES "public"."submissions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "submissions" ADD CONSTRAINT "submissions_photo_sha256_photos_sha256_fk" FOREIGN KEY ("photo_sha256") REFERENCES "public"."photos"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "submissions" ADD CONSTRAINT "submissions_uploader_id_users_id_fk" FOREIGN KEY ("uploader_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tps_results" ADD CONSTRAINT "tps_results_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "case_notes" ADD CONSTRAINT "case_notes_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "case_notes" ADD CONSTRAINT "case_notes_author_id_users_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cases" ADD CONSTRAINT "cases_assignee_id_users_id_fk" FOREIGN KEY ("assignee_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "areas_parent_idx" ON "areas" USING btree ("parent_code");--> statement-breakpoint
CREATE INDEX "areas_level_idx" ON "areas" USING btree ("level");--> statement-breakpoint
CREATE INDEX "tps_desa_idx" ON "tps" USING btree ("desa_code");--> statement-breakpoint
CREATE INDEX "tps_kec_idx" ON "tps" USING btree ("kec_code");--> statement-breakpoint
CREATE INDEX "tps_kab_idx" ON "tps" USING btree ("kab_code");--> statement-breakpoint
CREATE INDEX "tps_prov_idx" ON "tps" USING btree ("prov_code");--> statement-breakpoint
CREATE UNIQUE INDEX "candidates_contest_number_uq" ON "candidates" USING btree ("contest_id","number");--> statement-breakpoint
CREATE INDEX "contests_area_idx" ON "contests" USING btree ("area_code");--> statement-breakpoint
CREATE INDEX "contests_election_idx" ON "contests" USING btree ("election_id");--> statement-breakpoint
CREATE INDEX "tokens_user_idx" ON "tokens" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "changes_contest_idx" ON "changes" USING btree ("contest_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "readings_submission_version_uq" ON "readings" USING btree ("submission_id","reader_version");--> statement-breakpoint
CREATE UNIQUE INDEX "submissions_photo_tps_contest_uq" ON "submissions" USING btree ("photo_sha256","tps_code","contest_id");--> statement-breakpoint
CREATE INDEX "submissions_tps_idx" ON "submissions" USING btree ("tps_code","contest_id");--> statement-breakpoint
CREATE INDEX "submissions_status_idx" ON "submissions" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "tps_results_version_uq" ON "tps_results" USING btree ("tps_code","contest_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "tps_results_current_uq" ON "tps_results" USING btree ("tps_code","contest_id") WHERE is_current;--> statement-breakpoint
CREATE INDEX "tps_results_contest_idx" ON "tps_results" USING btree ("contest_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "anomalies_dedupe_uq" ON "anomalies" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "anomalies_area_idx" ON "anomalies" USING btree ("area_code");--> statement-breakpoint
CREATE INDEX "anomalies_tps_idx" ON "anomalies" USING btree ("tps_code");--> statement-breakpoint
CREATE INDEX "anomalies_rule_idx" ON "anomalies" USING btree ("rule");--> statement-breakpoint
CREATE UNIQUE INDEX "cases_tps_contest_uq" ON "cases" USING btree ("tps_code","contest_id");--> statement-breakpoint
CREATE INDEX "cases_area_idx" ON "cases" USING btree ("area_code");--> statement-breakpoint
CREATE UNIQUE INDEX "source_results_uq" ON "source_results" USING btree ("source","tps_code","contest_id");