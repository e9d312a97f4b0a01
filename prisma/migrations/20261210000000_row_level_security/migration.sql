-- Row-level security: a second wall behind the application's tenant filters (README "Security").
--
-- pretext_app       the role tenant-facing requests run as (SET LOCAL ROLE per transaction, src/db/rls.ts). It owns
--                   nothing and does not bypass RLS: it sees and writes only rows whose tenant_id equals the
--                   transaction's `pretext.tenant_id` setting, and nothing at all when the setting is missing.
-- pretext_operator  the explicit role of operator paths (operator-key requests, the trainer API's token lookup):
--                   a policy lets it see every row.
-- Both are NOLOGIN; the connecting role is granted both (it must be a member to SET ROLE, and as a member it keeps
-- the operator policy for background work that runs without a scope: queue workers, reconcilers, migrations).
-- Roles are cluster-global on a Postgres server, hence the IF NOT EXISTS guards.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pretext_app') THEN
    CREATE ROLE pretext_app NOLOGIN NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pretext_operator') THEN
    CREATE ROLE pretext_operator NOLOGIN NOBYPASSRLS;
  END IF;
  IF NOT pg_has_role(current_user, 'pretext_app', 'MEMBER') THEN
    EXECUTE format('GRANT pretext_app TO %I', current_user);
  END IF;
  IF NOT pg_has_role(current_user, 'pretext_operator', 'MEMBER') THEN
    EXECUTE format('GRANT pretext_operator TO %I', current_user);
  END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO pretext_app, pretext_operator;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO pretext_app, pretext_operator;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO pretext_app, pretext_operator;
REVOKE ALL ON TABLE "_prisma_migrations" FROM pretext_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO pretext_app, pretext_operator;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO pretext_app, pretext_operator;

-- The tenant of the current transaction, or NULL when none is set ('' once a local setting has ended).
CREATE OR REPLACE FUNCTION pretext_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('pretext.tenant_id', true), '')::uuid $$;
GRANT EXECUTE ON FUNCTION pretext_current_tenant() TO pretext_app, pretext_operator;

-- Every tenant-owned table carries tenant_id (children are denormalized), so one policy shape covers them all.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['api_keys', 'audit_events', 'usage_records', 'rate_buckets', 'datasets', 'dataset_versions',
                           'dataset_files', 'experiments', 'runs', 'metric_points', 'run_logs', 'models',
                           'model_versions', 'model_aliases', 'embedding_spaces'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I TO pretext_app USING (tenant_id = pretext_current_tenant()) WITH CHECK (tenant_id = pretext_current_tenant())', t);
    EXECUTE format('DROP POLICY IF EXISTS operator_all ON %I', t);
    EXECUTE format('CREATE POLICY operator_all ON %I TO pretext_operator USING (true) WITH CHECK (true)', t);
  END LOOP;
END
$$;

-- The tenant row itself: a tenant sees (and may update) only its own; creating and deleting tenants is operator work.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_self ON tenants;
CREATE POLICY tenant_self ON tenants FOR SELECT TO pretext_app USING (id = pretext_current_tenant());
DROP POLICY IF EXISTS tenant_self_update ON tenants;
CREATE POLICY tenant_self_update ON tenants FOR UPDATE TO pretext_app USING (id = pretext_current_tenant()) WITH CHECK (id = pretext_current_tenant());
DROP POLICY IF EXISTS operator_all ON tenants;
CREATE POLICY operator_all ON tenants TO pretext_operator USING (true) WITH CHECK (true);
