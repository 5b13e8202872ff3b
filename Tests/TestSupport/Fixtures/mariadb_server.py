#!/usr/bin/env python3
"""A throwaway MariaDB server for the tests: mariadb-install-db into a temporary data directory,
mariadbd on a loopback port, and one user with every privilege.

usage: mariadb_server.py USER [MARIADBD-OPTION...]   (the password is read from stdin's first line,
never argv; options after USER go to mariadbd last, so they win, e.g. --max-allowed-packet=4M)
Prints {"port": N, "socket": PATH, "datadir": PATH}; stops the server and removes its data
directory when stdin closes (with the test process at the latest).
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from serving import serve

USER = sys.argv[1]
EXTRA = sys.argv[2:]
PASSWORD = sys.stdin.readline().rstrip("\n")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    datadir = tempfile.mkdtemp(prefix="devbox-mariadb-")
    sock = os.path.join(datadir, "mysqld.sock")
    port = free_port()
    # A temporary directory of its own: a mariadbd starting deletes every `#sql*` file in its tmpdir
    # (leftovers of a crash, it assumes), so a server sharing /tmp lost the temporary tables of the
    # ones already running there (their statements failed, "Error on delete of '/tmp/#sql-temptable…"),
    # and the install's bootstrap server is one too: two installs at once in /tmp failed each other.
    os.makedirs(os.path.join(datadir, "tmp"))
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={datadir}/data", "--user=root",
                    "--auth-root-authentication-method=socket", "--skip-test-db", f"--tmpdir={datadir}/tmp"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={datadir}/data", "--user=root",
                               f"--tmpdir={datadir}/tmp", f"--port={port}", "--bind-address=127.0.0.1", f"--socket={sock}",
                               f"--pid-file={datadir}/mysqld.pid", "--skip-name-resolve",
                               "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
                               "--max-allowed-packet=1G", "--innodb-buffer-pool-size=256M",
                               "--innodb-log-file-size=256M", "--innodb-flush-log-at-trx-commit=2",
                               # Every test process's suites share this server, each sync-db with a control
                               # connection and parallel loaders: the default 151 ran out when they ran at once.
                               "--max-connections=1000",
                               "--skip-log-bin", f"--log-error={datadir}/error.log", *EXTRA],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if subprocess.run(["mariadb", f"--socket={sock}", "-uroot", "-e", "SELECT 1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                break
            if server.poll() is not None:
                sys.exit(open(f"{datadir}/error.log").read())
            time.sleep(0.1)
        escaped = PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
        sql = (f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{escaped}';\n"
               f"CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{escaped}';\n"
               f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%' WITH GRANT OPTION;\n"
               f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'localhost' WITH GRANT OPTION;\n")
        subprocess.run(["mariadb", f"--socket={sock}", "-uroot"], input=sql.encode(), check=True)
        serve({"port": port, "socket": sock, "datadir": datadir})
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(datadir, ignore_errors=True)


if __name__ == "__main__":
    main()
