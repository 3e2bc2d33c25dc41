DROP INDEX "anomalies_tps_idx";--> statement-breakpoint
ALTER TABLE "anomalies" ADD COLUMN "confidence" double precision DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "anomalies" ADD COLUMN "impact_votes" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "anomalies" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "case_notes" ADD COLUMN "kind" text DEFAULT 'note' NOT NULL;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "band" text DEFAULT 'LOW' NOT NULL;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "finding_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "reason_code" text;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "escalation" text;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "duplicate_of_id" bigint;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "pending" jsonb;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "touched" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "locked_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "sla_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "case_notes_case_idx" ON "case_notes" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "cases_state_idx" ON "cases" USING btree ("state","severity");--> statement-breakpoint
CREATE INDEX "anomalies_tps_idx" ON "anomalies" USING btree ("tps_code","contest_id");