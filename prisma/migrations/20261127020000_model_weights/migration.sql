-- Fine-tuning needs a version's trained weights, not only its ONNX graph: the trainer now stores them as one
-- self-describing float32 file (src/models/weights-file.ts). Versions registered before this have none and cannot
-- be fine-tuned (createFineTune says so).
ALTER TABLE "model_versions" ADD COLUMN "weights_key" TEXT;
