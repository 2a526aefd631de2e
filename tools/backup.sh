#!/bin/sh
# Back up the Fengqiao database: a pg_dump custom-format archive (compressed, restorable with
# tools/restore.sh or pg_restore), then keep the last $KEEP archives.
#
#   DATABASE_URL=postgresql://... tools/backup.sh [backup-dir]      (default: ./backups)
#   PG_BIN=/usr/lib/postgresql/16/bin  to pick the pg_dump matching the server's major version
set -eu
: "${DATABASE_URL:?set DATABASE_URL}"
DIR="${1:-backups}"
KEEP="${KEEP:-14}"
PG_DUMP="${PG_BIN:+$PG_BIN/}pg_dump"
mkdir -p "$DIR"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$DIR/fengqiao-$STAMP.dump"
"$PG_DUMP" --format=custom --no-owner --no-privileges --file="$OUT.partial" "$DATABASE_URL"
mv "$OUT.partial" "$OUT"   # a finished archive only ever appears under its final name
ls -1t "$DIR"/fengqiao-*.dump | tail -n +"$((KEEP + 1))" | xargs -r rm -f
echo "$OUT"
