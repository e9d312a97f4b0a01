// The contract's pretext tables (what the gateway validates with) say exactly what the trainer's task classes do:
// the same encoder kinds per pretext × modality, and the same verdict and words on every option set tried here.
import { checkPretextSettings, ENCODER_KINDS, PRETEXTS, type TaskOptions } from '../../src/contracts/pretext';
import { MODALITIES } from '../../src/ingest/types';
import { getPretextTask } from '../../src/training/pretext/registry';

const OPTION_SETS: TaskOptions[] = [
  {},
  { maskRatio: 0.3 },
  { maskRatio: 0 },
  { maskRatio: 1 },
  { maskRatio: 1.5 },
  { temperature: 0.2 },
  { temperature: 0 },
  { temperature: -1 },
  { temperature: Infinity },
  { projectionDim: 32 },
  { projectionDim: 0 },
  { projectionDim: 2.5 },
  { spatialEmbedding: true },
  { variant: 'cpc' },
  { variant: 'cpc', temperature: 0 },
  { variant: 'mse', temperature: 0 },
  { variant: 'nope' as never },
];

const verdict = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
};

describe('contracts/pretext against the trainer task classes', () => {
  for (const pretext of PRETEXTS) {
    for (const modality of MODALITIES) {
      test(`${pretext} × ${modality}`, () => {
        expect(ENCODER_KINDS[pretext][modality]).toEqual(getPretextTask(pretext, modality).encoderKinds);
        for (const options of OPTION_SETS) {
          expect([options, verdict(() => checkPretextSettings(pretext, modality, options))]).toEqual([options, verdict(() => getPretextTask(pretext, modality, options))]);
        }
      });
    }
  }

  test('unknown pretexts are refused with the choices', () => {
    expect(() => checkPretextSettings('ROTATION' as never, 'IMAGE')).toThrow('Unsupported pretext: "ROTATION". Should be one of: MASKED, CONTRASTIVE, NEXT_STEP.');
  });
});
