#!/bin/bash
# First start: create the data directory, the database and the app's user (password from the
# environment, never written to a log). Later starts keep the data in the named volume as it is.
set -euo pipefail
DATADIR=/var/lib/mysql
if [[ ! -d $DATADIR/mysql ]]; then
  echo "nuvola-db: initialising $DATADIR" >&2
  chown mysql:mysql "$DATADIR"
  mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db --auth-root-authentication-method=socket >/dev/null
  mariadbd --user=mysql --datadir="$DATADIR" --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  for _ in $(seq 1 60); do mariadb --socket=/run/mysqld/init.sock -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.5; done
  # The password goes in through stdin, so no process list shows it.
  mariadb --socket=/run/mysqld/init.sock <<SQL
CREATE DATABASE IF NOT EXISTS \`${MARIADB_DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '${MARIADB_USER}'@'%' IDENTIFIED BY '${MARIADB_PASSWORD//\'/\'\'}';
GRANT ALL PRIVILEGES ON *.* TO '${MARIADB_USER}'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
  kill "$pid"
  wait "$pid" || true
  echo "nuvola-db: ready for first start" >&2
fi
exec mariadbd --user=mysql --datadir="$DATADIR"
