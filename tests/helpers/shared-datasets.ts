// The reference datasets live beside the checkout (../shared/datasets), not in it. Locally their tests skip with a
// warning when the folder is absent; under CI (CI=true) a missing folder is a failure, so a pipeline that lost its
// data cannot pass by skipping everything that reads it.
import path from 'node:path';

// PRETEXT_SHARED_DATASETS points elsewhere (another checkout layout, or a missing folder to try the CI rule).
export const SHARED_DATASETS = path.resolve(process.env.PRETEXT_SHARED_DATASETS ?? path.join(__dirname, '../../../shared/datasets'));

const inCi = () => /^(1|true)$/i.test(process.env.CI ?? '');

/**
 * Call at the top level of a test file, once per group of data-dependent tests. Returns `present`; when the data is
 * absent it warns (locally) or registers a failing test (under CI=true) that names what is missing.
 */
export function demandSharedData(what: string, present: boolean): boolean {
  if (present) return true;
  const message = `${what} not found under ${SHARED_DATASETS}; the tests that read it are skipped`;
  if (inCi()) {
    test(`reference data present: ${what}`, () => {
      throw new Error(`${message}, and CI=true does not allow that. Provide ../shared/datasets (see the README).`);
    });
  } else {
    console.warn(`${message} (under CI=true this fails).`);
  }
  return false;
}
