// Pure data: the platform's default fine-tuning rate for a pretrained encoder, per input kind (no engine involved).
import { FINETUNE_RECIPE, pretrainedLearningRate } from '../../src/models/recipes';

describe('pretrainedLearningRate', () => {
  it('fine-tunes pretrained pixel and sequence encoders at the scratch rate and text encoders more gently', () => {
    expect(pretrainedLearningRate('image')).toBe(1e-3);
    expect(pretrainedLearningRate('sequence')).toBe(1e-3);
    expect(pretrainedLearningRate('image')).toBe(FINETUNE_RECIPE.scratchLearningRate);
    expect(pretrainedLearningRate('tokens')).toBe(5e-4);
  });
});
