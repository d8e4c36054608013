#!/usr/bin/env bash
# Runs once, when the postgres service initialises an empty data folder (docker-entrypoint-initdb.d),
# as the superuser, after the image made the database $POSTGRES_DB. It makes the roles production
# uses, so that nothing but this script and an administrator connects as a superuser:
#   convenant_owner          LOGIN, owns the database and its schema: only the migrate job uses it
#   convenant_gateway        LOGIN, member of convenant_app: the gateways
#   convenant_retention_job  LOGIN, member of convenant_retention: the retention job
#   convenant_app, convenant_retention  NOLOGIN groups; the migrations grant them their privileges
# Passwords come from the secret files compose mounts, not from the environment.
# test/database-roles.e2e-spec.ts runs the SQL below (between the SQL markers) on a real PostgreSQL.
set -euo pipefail

secret() { tr -d '\r\n' < "${SECRETS_DIR:-/run/secrets}/$1"; }

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v dbname="$POSTGRES_DB" \
  -v owner_password="$(secret db_owner_password)" \
  -v gateway_password="$(secret db_gateway_password)" \
  -v retention_password="$(secret db_retention_password)" <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_app') THEN
    CREATE ROLE convenant_app NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_retention') THEN
    CREATE ROLE convenant_retention NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_owner') THEN
    CREATE ROLE convenant_owner LOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_gateway') THEN
    CREATE ROLE convenant_gateway LOGIN IN ROLE convenant_app;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'convenant_retention_job') THEN
    CREATE ROLE convenant_retention_job LOGIN IN ROLE convenant_retention;
  END IF;
END $$;
ALTER ROLE convenant_owner PASSWORD :'owner_password';
ALTER ROLE convenant_gateway PASSWORD :'gateway_password';
ALTER ROLE convenant_retention_job PASSWORD :'retention_password';
ALTER DATABASE :"dbname" OWNER TO convenant_owner;
ALTER SCHEMA public OWNER TO convenant_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE :"dbname" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"dbname" TO convenant_gateway, convenant_retention_job;
SQL
