// Per-request context handed to every resolver.
import type { Logger } from '../logger';
import type { Principal } from '../modules/auth/principal';
import type { Services } from '../modules';

export interface GatewayContext {
  requestId: string;
  principal: Principal;
  services: Services;
  log: Logger;
  /** Size of the request body, when the transport knows it (the body-limit plugin compares it per operation). */
  bodyBytes?: number;
}
