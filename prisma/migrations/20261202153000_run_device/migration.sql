-- What a run's trainer proved about its device at start (src/contracts/accelerator.ts DeviceReport: accelerator,
-- backend, device name, memory, probe matmul, engines tried). Null until the trainer reports it; runs created
-- before this column have none.
ALTER TABLE "runs" ADD COLUMN "device" JSONB;
