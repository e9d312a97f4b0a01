// Append-only audit trail of changes made through the API (who, what, which target). Written by every domain
// service inside the transaction of the change it records.
import type { Db, Prisma } from '../../db/client';

export interface AuditEntry {
  tenantId: string | null;
  actor: string;
  action: string;
  targetType: string;
  targetId?: string;
  data?: Prisma.InputJsonValue;
}

type Tx = Pick<Db, 'auditEvent'>;

export async function recordAudit(db: Tx, e: AuditEntry): Promise<void> {
  await db.auditEvent.create({
    data: {
      tenantId: e.tenantId,
      actor: e.actor,
      action: e.action,
      targetType: e.targetType,
      ...(e.targetId ? { targetId: e.targetId } : {}),
      ...(e.data !== undefined ? { data: e.data } : {}),
    },
  });
}
