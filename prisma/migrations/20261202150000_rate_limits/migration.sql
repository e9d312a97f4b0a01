-- Rate limits per tenant: token buckets shared by every gateway instance. A tenant's limits override the platform
-- defaults (config) where set; NULL means "the platform default".
ALTER TABLE "tenants" ADD COLUMN "requests_per_minute" INTEGER;
ALTER TABLE "tenants" ADD COLUMN "inference_inputs_per_minute" INTEGER;

-- One row per bucket (`requests:<tenant id>`, `inference:<tenant id>`). Tokens refill continuously at the bucket's
-- per-minute rate up to one minute's worth; a request takes its cost in one atomic UPDATE (src/modules/limits).
CREATE TABLE "rate_buckets" (
    "key" TEXT NOT NULL,
    "tenant_id" UUID NOT NULL,
    "tokens" DOUBLE PRECISION NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "rate_buckets_pkey" PRIMARY KEY ("key")
);

CREATE INDEX "rate_buckets_tenant_id_idx" ON "rate_buckets"("tenant_id");

ALTER TABLE "rate_buckets" ADD CONSTRAINT "rate_buckets_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
