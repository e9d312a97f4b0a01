export { accuracy, argmaxRows, confusionMatrix, macroF1, regressionMetrics, type RegressionMetrics } from './metrics';
export { fitLinear, applyLinear, columnStats, type LinearModel, type LinearFitOptions, type LinearLoss } from './logistic';
export { knnPredict } from './knn';
export {
  evaluateEmbeddings, evaluateRegressionEmbeddings, evaluateEncoder, labelSet, labelIndices, numericTargets,
  type ClassificationReport, type RegressionReport, type EmbeddingSet, type EvaluateOptions, type EncoderEvaluationOptions,
} from './evaluate';
