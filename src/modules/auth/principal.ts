// Who is calling. Derived once per request from the Authorization header.
import type { ApiKeyRole } from '../../db/client';
import { AppError, ErrorCode } from '../../errors';

export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'operator' }
  | { kind: 'tenant'; tenantId: string; apiKeyId: string; role: ApiKeyRole };

export type TenantPrincipal = Extract<Principal, { kind: 'tenant' }>;

const RANK: Record<ApiKeyRole, number> = { READER: 1, MEMBER: 2, ADMIN: 3 };

export function roleAtLeast(role: ApiKeyRole, needed: ApiKeyRole): boolean {
  return RANK[role] >= RANK[needed];
}

export function actorOf(p: Principal): string {
  switch (p.kind) {
    case 'operator':
      return 'operator';
    case 'tenant':
      return `key:${p.apiKeyId}`;
    case 'anonymous':
      return 'anonymous';
  }
}

/**
 * The calling tenant, checked again at the service layer (the gateway's @access rule is the first check).
 * Services take the tenant from here, never from arguments, so a foreign id can only ever miss.
 */
export function requireTenant(p: Principal, role: ApiKeyRole): TenantPrincipal {
  if (p.kind !== 'tenant') throw new AppError(ErrorCode.FORBIDDEN, 'This operation needs a tenant API key');
  if (!roleAtLeast(p.role, role)) throw new AppError(ErrorCode.FORBIDDEN, `This operation needs role ${role} or higher; this key has role ${p.role}`);
  return p;
}
