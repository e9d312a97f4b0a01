-- Dataset processing as dispatched (sharded) jobs, DATASET_PROCESSING=job (src/modules/datasets/processing-jobs.ts).
-- processing_job_id: the dispatcher's id of the current attempt's job ('submitting' while it is being submitted);
-- processing_attempts: attempts started, for the retry limit. Table-level grants already cover new columns.
ALTER TABLE "dataset_versions" ADD COLUMN "processing_job_id" TEXT;
ALTER TABLE "dataset_versions" ADD COLUMN "processing_attempts" INTEGER NOT NULL DEFAULT 0;
