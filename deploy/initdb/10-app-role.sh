#!/bin/sh
# The postgis image runs this once, on an empty volume, as its superuser: the app's role logs
# in and owns the schema its tables live in, and nothing more (as scripts/setup.sh makes it).
set -eu
psql -v ON_ERROR_STOP=1 -v pw="$APP_DB_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
SELECT format('CREATE ROLE notoneless LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'pw') \gexec
CREATE DATABASE notoneless;
REVOKE ALL ON DATABASE notoneless FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE notoneless TO notoneless;
\c notoneless
CREATE EXTENSION IF NOT EXISTS postgis;
ALTER SCHEMA public OWNER TO notoneless;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
