#!/bin/sh
# Restore a tools/backup.sh archive into a NEW, empty database (never over a live one):
#
#   ADMIN_URL=postgresql://postgres@host/postgres tools/restore.sh backups/fengqiao-X.dump fengqiao_restored
#
# then point DATABASE_URL at it (and run `fengqiao migrate` if the code is newer).
#   PG_BIN=/usr/lib/postgresql/16/bin  to pick the pg_restore matching the server's version
set -eu
: "${ADMIN_URL:?set ADMIN_URL (a URL of the server, any database, with CREATEDB)}"
ARCHIVE="${1:?archive}"
NAME="${2:?new database name}"
BIN="${PG_BIN:+$PG_BIN/}"
case "$NAME" in *[!A-Za-z0-9_]*) echo "database name: letters, digits, _" >&2; exit 2;; esac
"${BIN}psql" "$ADMIN_URL" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE \"$NAME\""
TARGET="$(printf '%s' "$ADMIN_URL" | sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$NAME#")"
"${BIN}pg_restore" --no-owner --no-privileges --exit-on-error --dbname="$TARGET" "$ARCHIVE"
echo "restored into $NAME"
