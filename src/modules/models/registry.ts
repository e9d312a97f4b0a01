// The model registry: models, their immutable versions and atomically switched aliases, and the resolution of a
// model reference (`name@alias`, `name@v3`, `name`, an id) to a version. Serving and embedding spaces resolve here.
import type { Db, Model, ModelVersion } from '../../db/client';
import { isUuid } from '../../db/errors';
import { badInput, conflict, notFound } from '../../errors';
import { recordAudit } from '../audit/service';
import { LookupCache } from '../cache/lookup-cache';
import { actorOf, requireTenant, type Principal, type TenantPrincipal } from '../auth/principal';
import { headlineScore, parseModelRef } from './reference';

const ALIAS = /^[a-z][a-z0-9_-]{0,39}$/;
/** How long a resolved model reference is reused; alias switches in this process take effect at once. */
const RESOLVE_TTL_MS = 5_000;

export class ModelRegistry {
  /** Model references resolved recently (`tenant|ref` → version), so serving does not query the registry per request. */
  private readonly resolved = new LookupCache<ModelVersion>({ ttlMs: RESOLVE_TTL_MS, refreshAfterMs: RESOLVE_TTL_MS / 2 });

  constructor(private readonly db: Db) {}

  list(p: Principal): Promise<Model[]> {
    const t = requireTenant(p, 'READER');
    return this.db.model.findMany({ where: { tenantId: t.tenantId }, orderBy: { createdAt: 'desc' } });
  }

  async get(p: Principal, id: string): Promise<Model> {
    const t = requireTenant(p, 'READER');
    const m = isUuid(id) ? await this.db.model.findFirst({ where: { id, tenantId: t.tenantId } }) : null;
    if (!m) throw notFound('Model', id);
    return m;
  }

  versions(m: Model): Promise<ModelVersion[]> {
    return this.db.modelVersion.findMany({ where: { modelId: m.id, tenantId: m.tenantId }, orderBy: { version: 'desc' } });
  }

  aliases(m: Model) {
    return this.db.modelAlias.findMany({ where: { modelId: m.id, tenantId: m.tenantId }, include: { modelVersion: true }, orderBy: { alias: 'asc' } });
  }

  async versionAliases(v: ModelVersion): Promise<string[]> {
    return (await this.db.modelAlias.findMany({ where: { modelVersionId: v.id, tenantId: v.tenantId }, select: { alias: true } })).map((a) => a.alias);
  }

  modelOf(v: ModelVersion): Promise<Model> {
    return this.db.model.findUniqueOrThrow({ where: { id: v.modelId } });
  }

  /** A version by id, or by a reference (`name@v3`, `name@alias`, `name`) within the caller's tenant. */
  async getVersion(p: Principal, id: string): Promise<ModelVersion> {
    const t = requireTenant(p, 'READER');
    if (!isUuid(id)) return this.resolve(t, id);
    const v = await this.db.modelVersion.findFirst({ where: { id, tenantId: t.tenantId } });
    if (!v) throw notFound('Model version', id);
    return v;
  }

  /** `name@alias`, `name@v3`, `name` (its `production` alias, else its newest version), a model id or a version id. */
  async resolve(t: TenantPrincipal, ref: string): Promise<ModelVersion> {
    // One lookup per reference in flight (src/modules/cache/lookup-cache.ts). The key holds the tenant, so only that
    // tenant's callers share a lookup.
    return this.resolved.get(`${t.tenantId}|${ref}`, () => this.resolveUncached(t, ref));
  }

  private async resolveUncached(t: TenantPrincipal, ref: string): Promise<ModelVersion> {
    const parsed = parseModelRef(ref);
    if (!parsed) throw badInput(`Invalid model reference "${ref}": use a model version id, a model id, or name, name@alias, name@v3`);
    if (parsed.kind === 'id') {
      const v = await this.db.modelVersion.findFirst({ where: { id: parsed.id, tenantId: t.tenantId } });
      if (v) return v;
      const m = await this.db.model.findFirst({ where: { id: parsed.id, tenantId: t.tenantId } });
      if (m) return this.defaultVersion(m, ref);
      throw notFound('Model', ref);
    }
    const m = await this.db.model.findFirst({ where: { tenantId: t.tenantId, name: parsed.name } });
    if (!m) throw notFound('Model', ref);
    if (parsed.version !== null) {
      const v = await this.db.modelVersion.findFirst({ where: { modelId: m.id, version: parsed.version } });
      if (!v) throw notFound('Model version', ref);
      return v;
    }
    if (parsed.alias) {
      const a = await this.db.modelAlias.findFirst({ where: { modelId: m.id, alias: parsed.alias }, include: { modelVersion: true } });
      if (!a) throw notFound('Model alias', ref);
      return a.modelVersion;
    }
    return this.defaultVersion(m, ref);
  }

  private async defaultVersion(m: Model, ref: string): Promise<ModelVersion> {
    const prod = await this.db.modelAlias.findFirst({ where: { modelId: m.id, alias: 'production' }, include: { modelVersion: true } });
    if (prod) return prod.modelVersion;
    const latest = await this.db.modelVersion.findFirst({ where: { modelId: m.id }, orderBy: { version: 'desc' } });
    if (!latest) throw notFound('Model version', ref);
    return latest;
  }

  /**
   * Points an alias at a version in one statement (readers see the old or the new target, never neither).
   * Evaluation-gated: moving an alias to a version that scores worse than the current target needs `force`.
   */
  async setAlias(p: Principal, input: { modelId: string; alias: string; versionId: string; force?: boolean | null }) {
    const t = requireTenant(p, 'MEMBER');
    if (!ALIAS.test(input.alias)) throw badInput('alias: 1-40 characters, lowercase letters, digits, _ and -, starting with a letter');
    const m = isUuid(input.modelId) ? await this.db.model.findFirst({ where: { id: input.modelId, tenantId: t.tenantId } }) : null;
    if (!m) throw notFound('Model', input.modelId);
    const v = isUuid(input.versionId) ? await this.db.modelVersion.findFirst({ where: { id: input.versionId, modelId: m.id, tenantId: t.tenantId } }) : null;
    if (!v) throw notFound('Model version', input.versionId);
    const current = await this.db.modelAlias.findFirst({ where: { modelId: m.id, alias: input.alias }, include: { modelVersion: true } });
    if (current && current.modelVersionId !== v.id && !input.force) {
      const before = headlineScore(current.modelVersion.evaluation);
      const after = headlineScore(v.evaluation);
      const datasets = [current.modelVersion.evaluation, v.evaluation].map((e) => (e as { datasetVersionId?: string } | null)?.datasetVersionId);
      if (before && after && datasets[0] && datasets[1] && datasets[0] !== datasets[1]) {
        throw conflict(
          `Version ${v.version} was evaluated on dataset version ${datasets[1]} and the current "${input.alias}" (version ${current.modelVersion.version}) on ${datasets[0]}: the scores are not comparable; pass force: true to promote it anyway`,
        );
      }
      if (before && (!after || (after.metric === before.metric && after.value < before.value) || after.metric !== before.metric)) {
        throw conflict(
          `Version ${v.version} scores ${after ? `${after.metric} ${after.value.toFixed(4)}` : 'no evaluation'} against ${before.metric} ${before.value.toFixed(4)} for the current "${input.alias}" (version ${current.modelVersion.version}); pass force: true to promote it anyway`,
        );
      }
    }
    const alias = await this.db.$transaction(async (tx) => {
      const a = await tx.modelAlias.upsert({
        where: { modelId_alias: { modelId: m.id, alias: input.alias } },
        create: { tenantId: t.tenantId, modelId: m.id, alias: input.alias, modelVersionId: v.id },
        update: { modelVersionId: v.id, updatedAt: new Date() },
        include: { modelVersion: true },
      });
      await recordAudit(tx, { tenantId: t.tenantId, actor: actorOf(p), action: 'model.alias', targetType: 'Model', targetId: m.id, data: { alias: input.alias, version: v.version, force: !!input.force } });
      return a;
    });
    this.resolved.deletePrefix(`${t.tenantId}|`);
    return alias;
  }
}
