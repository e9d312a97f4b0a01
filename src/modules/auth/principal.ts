// Who is calling. Derived once per request from the Authorization header.
import type { ApiKeyRole } from '../../db/client';

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
