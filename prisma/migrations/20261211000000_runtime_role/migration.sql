-- The runtime group role (README "Security"): what a gateway's login role is granted when migrations run with other,
-- owner credentials (DATABASE_MIGRATION_URL). A member of pretext_runtime can SET ROLE to pretext_app and
-- pretext_operator, and outside any scope (queue worker, supervisor, reconciler, usage flushes) it has the operator
-- policy and the group roles' table privileges; it owns nothing, so it can neither alter, disable or drop a policy or
-- table nor create one. The login role itself is created by `pretext db create-runtime-role` (roles are
-- cluster-global and carry passwords, which do not belong in a migration).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pretext_runtime') THEN
    CREATE ROLE pretext_runtime NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS INHERIT;
  END IF;
  -- Guarded like the memberships of the previous migration: a migration role without CREATEROLE can still migrate a
  -- cluster where a DBA has granted these once.
  IF NOT pg_has_role('pretext_runtime', 'pretext_app', 'MEMBER') THEN
    GRANT pretext_app TO pretext_runtime;
  END IF;
  IF NOT pg_has_role('pretext_runtime', 'pretext_operator', 'MEMBER') THEN
    GRANT pretext_operator TO pretext_runtime;
  END IF;
END
$$;

-- Migration history is the migration role's alone: a runtime role (through pretext_operator) could otherwise delete
-- a record and have the next migration run re-apply it.
REVOKE ALL ON TABLE "_prisma_migrations" FROM pretext_operator;
