-- Embedding-space builds as dispatched (sharded) jobs, DATASET_PROCESSING=job (src/modules/models/space-jobs.ts):
-- build_job_id is the dispatcher's id of the current attempt's job ('submitting' while it is being submitted),
-- build_attempts the attempts started, build_started_at when the current claim was taken.
ALTER TABLE "embedding_spaces" ADD COLUMN "build_job_id" TEXT;
ALTER TABLE "embedding_spaces" ADD COLUMN "build_attempts" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "embedding_spaces" ADD COLUMN "build_started_at" TIMESTAMPTZ(3);
