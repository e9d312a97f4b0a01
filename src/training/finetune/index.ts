export {
  fineTune, resolveHyperparameters, FINETUNE_MODES, FINETUNE_TASKS,
  type FineTuneOptions, type FineTuneResult, type FineTuneEvaluation, type FineTuneHyperparameters, type FineTuneMode, type FineTuneTask,
} from './finetune';
export { stratifiedSubset, perClassSubset, randomSubset } from './subset';
export { prepareInputs, batchInputs, runModel, range, type InputPipeline, type PreparedInputs } from './inputs';
