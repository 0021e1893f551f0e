-- Database roles and database of the platform; run once by a superuser (./tel does it for the
-- local stack; the compose file runs it at first start; for an external Postgres an operator
-- runs it: psql -v owner_password=... -v app_password=... -f roles.sql).
--   tel_owner  owns the schema, runs migrations (telctl migrate); never used by services
--   tel_app    what every service connects as: owns nothing, cannot bypass row-level security
\set ON_ERROR_STOP on
SELECT 'CREATE ROLE tel_owner LOGIN CREATEDB' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tel_owner')\gexec
SELECT 'CREATE ROLE tel_app LOGIN NOSUPERUSER NOBYPASSRLS' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tel_app')\gexec
ALTER ROLE tel_owner PASSWORD :'owner_password';
ALTER ROLE tel_app PASSWORD :'app_password';
SELECT 'CREATE DATABASE tel OWNER tel_owner' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'tel')\gexec
