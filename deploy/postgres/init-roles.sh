#!/bin/sh
# First-start hook of the official postgres image (docker-entrypoint-initdb.d): creates the
# platform's roles and database from roles.sql with passwords from the environment.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$TEL_PG_OWNER_PASSWORD" -v app_password="$TEL_PG_APP_PASSWORD" \
  -f /opt/tel/roles.sql
