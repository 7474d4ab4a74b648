# Sourced by run.sh, bench.sh and test.sh.
#
# ensure_extension creates the extension in a database, anew when the
# installed build's extension script differs from the one the database was created with.
# Its lines are compared in sorted order: pgrx writes the same objects in an order that
# varies from build to build.
# Version 0.1.0 has no upgrade scripts, so that drops the measurements stored by the earlier
# build (README: "The extension stays at version 0.1.0 during development").
#
#   ensure_extension PORT DATABASE STAMP_FILE
ensure_extension() {
  local port=$1 db=$2 stamp=$3 script sum
  local psql=(psql -X -q -v ON_ERROR_STOP=1 -h localhost -p "$port" -U postgres -d "$db")
  script="$(/usr/lib/postgresql/15/bin/pg_config --sharedir)/extension/tsparquet--0.1.0.sql"
  sum=$(LC_ALL=C sort "$script" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ] &&
    [ -n "$("${psql[@]}" -tAc "SELECT 1 FROM pg_extension WHERE extname = 'tsparquet'")" ]; then
    printf '==> %s\n' "database \"$db\" holds tsparquet from another build: dropping it (and its measurements) to create it anew"
    "${psql[@]}" -c "DROP EXTENSION tsparquet CASCADE"
  fi
  "${psql[@]}" -c "CREATE EXTENSION IF NOT EXISTS tsparquet"
  echo "$sum" >"$stamp"
  chown --reference="$(dirname "$stamp")" "$stamp"
}

# Unlinks the installed library before a build is installed over it: a running server keeps
# the copy it mapped (every process maps it, under shared_preload_libraries), where a file
# written over in place makes them crash. The server runs the new build once restarted.
unlink_installed_library() {
  rm -f "$(/usr/lib/postgresql/15/bin/pg_config --pkglibdir)/tsparquet.so"
}
