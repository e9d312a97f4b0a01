-- CreateEnum
CREATE TYPE "Modality" AS ENUM ('TEXT', 'IMAGE', 'SEQUENCE');
CREATE TYPE "DatasetVersionStatus" AS ENUM ('UPLOADING', 'PROCESSING', 'READY', 'FAILED');
CREATE TYPE "DatasetFileStatus" AS ENUM ('UPLOADING', 'UPLOADED');
CREATE TYPE "Pretext" AS ENUM ('MASKED', 'CONTRASTIVE', 'NEXT_STEP');
CREATE TYPE "RunKind" AS ENUM ('PRETRAIN', 'FINETUNE');
CREATE TYPE "RunStatus" AS ENUM ('QUEUED', 'DISPATCHED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');
CREATE TYPE "EmbeddingSpaceStatus" AS ENUM ('BUILDING', 'READY', 'FAILED');

-- CreateTable
CREATE TABLE "usage_records" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "quantity" BIGINT NOT NULL,
    "ref" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "usage_records_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "datasets" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "modality" "Modality" NOT NULL,
    "description" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(3),
    CONSTRAINT "datasets_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "dataset_versions" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "dataset_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "status" "DatasetVersionStatus" NOT NULL,
    "shape" JSONB NOT NULL,
    "split_rule" JSONB,
    "stats" JSONB,
    "manifest_key" TEXT,
    "shard_bytes" BIGINT NOT NULL DEFAULT 0,
    "error" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processing_started_at" TIMESTAMPTZ(3),
    "ready_at" TIMESTAMPTZ(3),
    CONSTRAINT "dataset_versions_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "dataset_files" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "version_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL,
    "sha256" TEXT,
    "content_type" TEXT,
    "status" "DatasetFileStatus" NOT NULL,
    "storage_key" TEXT NOT NULL,
    "upload_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "dataset_files_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "experiments" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "dataset_version_id" UUID NOT NULL,
    "pretext" "Pretext" NOT NULL,
    "encoder_spec" JSONB NOT NULL,
    "hyperparameters" JSONB NOT NULL,
    "resources" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "experiments_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "runs" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "experiment_id" UUID,
    "kind" "RunKind" NOT NULL,
    "status" "RunStatus" NOT NULL,
    "config" JSONB NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "max_attempts" INTEGER NOT NULL DEFAULT 3,
    "dispatcher" TEXT,
    "external_id" TEXT,
    "token_hash" TEXT,
    "token_expires_at" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3),
    "progress" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "step" INTEGER NOT NULL DEFAULT 0,
    "total_steps" INTEGER,
    "checkpoint_key" TEXT,
    "checkpoint_step" INTEGER,
    "error" TEXT,
    "backend" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "not_before" TIMESTAMPTZ(3),
    CONSTRAINT "runs_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "metric_points" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "epoch" INTEGER,
    "name" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "metric_points_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "run_logs" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "level" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "run_logs_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "models" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "modality" "Modality" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "models_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "model_versions" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "model_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "run_id" UUID,
    "parent_version_id" UUID,
    "onnx_key" TEXT NOT NULL,
    "tokenizer_key" TEXT,
    "input_spec" JSONB NOT NULL,
    "embedding_dim" INTEGER NOT NULL,
    "head" JSONB,
    "evaluation" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "model_versions_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "model_aliases" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "model_id" UUID NOT NULL,
    "alias" TEXT NOT NULL,
    "model_version_id" UUID NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "model_aliases_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "embedding_spaces" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "model_version_id" UUID NOT NULL,
    "dataset_version_id" UUID NOT NULL,
    "status" "EmbeddingSpaceStatus" NOT NULL,
    "rows" INTEGER NOT NULL DEFAULT 0,
    "dim" INTEGER NOT NULL,
    "vectors_key" TEXT,
    "index_key" TEXT,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "embedding_spaces_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "usage_records_tenant_id_kind_created_at_idx" ON "usage_records"("tenant_id", "kind", "created_at");
CREATE INDEX "datasets_tenant_id_created_at_idx" ON "datasets"("tenant_id", "created_at");
CREATE UNIQUE INDEX "datasets_tenant_id_name_key" ON "datasets"("tenant_id", "name");
CREATE INDEX "dataset_versions_tenant_id_status_idx" ON "dataset_versions"("tenant_id", "status");
CREATE UNIQUE INDEX "dataset_versions_dataset_id_version_key" ON "dataset_versions"("dataset_id", "version");
CREATE INDEX "dataset_files_tenant_id_storage_key_idx" ON "dataset_files"("tenant_id", "storage_key");
CREATE UNIQUE INDEX "dataset_files_version_id_name_key" ON "dataset_files"("version_id", "name");
CREATE INDEX "experiments_tenant_id_created_at_idx" ON "experiments"("tenant_id", "created_at");
CREATE INDEX "runs_tenant_id_status_idx" ON "runs"("tenant_id", "status");
CREATE INDEX "runs_status_queued_at_idx" ON "runs"("status", "queued_at");
CREATE INDEX "metric_points_run_id_name_step_idx" ON "metric_points"("run_id", "name", "step");
CREATE INDEX "run_logs_run_id_id_idx" ON "run_logs"("run_id", "id");
CREATE UNIQUE INDEX "models_tenant_id_name_key" ON "models"("tenant_id", "name");
CREATE UNIQUE INDEX "model_versions_run_id_key" ON "model_versions"("run_id");
CREATE UNIQUE INDEX "model_versions_model_id_version_key" ON "model_versions"("model_id", "version");
CREATE UNIQUE INDEX "model_aliases_model_id_alias_key" ON "model_aliases"("model_id", "alias");
CREATE UNIQUE INDEX "embedding_spaces_model_version_id_dataset_version_id_key" ON "embedding_spaces"("model_version_id", "dataset_version_id");

-- AddForeignKey
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "datasets" ADD CONSTRAINT "datasets_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "dataset_versions" ADD CONSTRAINT "dataset_versions_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "dataset_files" ADD CONSTRAINT "dataset_files_version_id_fkey" FOREIGN KEY ("version_id") REFERENCES "dataset_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_dataset_version_id_fkey" FOREIGN KEY ("dataset_version_id") REFERENCES "dataset_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "runs" ADD CONSTRAINT "runs_experiment_id_fkey" FOREIGN KEY ("experiment_id") REFERENCES "experiments"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "metric_points" ADD CONSTRAINT "metric_points_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "run_logs" ADD CONSTRAINT "run_logs_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "models"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "model_aliases" ADD CONSTRAINT "model_aliases_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "models"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "model_aliases" ADD CONSTRAINT "model_aliases_model_version_id_fkey" FOREIGN KEY ("model_version_id") REFERENCES "model_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "embedding_spaces" ADD CONSTRAINT "embedding_spaces_model_version_id_fkey" FOREIGN KEY ("model_version_id") REFERENCES "model_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
