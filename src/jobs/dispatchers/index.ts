import { AwsBatchDispatcher } from './aws-batch';
import { EcsDispatcher } from './ecs';
import { KubernetesDispatcher } from './kubernetes';
import { LocalDispatcher } from './local';
import { DISPATCHER_NAMES, type Dispatcher, type DispatcherOptions } from './types';

export * from './types';
export { DispatchError } from './errors';
export { LocalDispatcher } from './local';
export { AwsBatchDispatcher, batchJobStatus } from './aws-batch';
export { EcsDispatcher, ecsTaskStatus } from './ecs';
export { KubernetesDispatcher, kubernetesJobStatus, loadKubernetesClient } from './kubernetes';
export { executionName } from './validate';

/** Builds the dispatcher the configuration names. The caller (config module) supplies every value. */
export function createDispatcher(config: DispatcherOptions): Dispatcher {
  switch (config.kind) {
    case 'local':
      return new LocalDispatcher(config);
    case 'aws-batch':
      return new AwsBatchDispatcher(config);
    case 'ecs':
      return new EcsDispatcher(config);
    case 'kubernetes':
      return new KubernetesDispatcher(config);
    default: {
      const kind = (config as { kind?: unknown }).kind;
      throw new Error(`Unsupported dispatcher: "${String(kind)}". Should be one of: ${DISPATCHER_NAMES.join(', ')}.`);
    }
  }
}
