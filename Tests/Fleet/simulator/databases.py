"""RDS databases that answer: every MySQL or MariaDB DB instance moto knows is a real local
MariaDB server behind its endpoint.

AWS documents an instance's endpoint (`Endpoint.Address`, `Endpoint.Port`, as DescribeDBInstances
and `!GetAtt Db.Endpoint.Address` give them) as a DNS name that resolves, inside the VPC, to the
instance, and with ManageMasterUserPassword the master user's password in a Secrets Manager
secret (`MasterUserSecret.SecretArn`) holding `{"username", "password"}`. Here:

- each DB instance gets its own loopback address (127.a.b.c, never 127.0.0.x) on its endpoint
  port (3306 for MySQL unless the instance says otherwise), where the simulator listens;
- the endpoint's name resolves to that address inside every instance: the simulator keeps a
  block of lines in each instance's own `/etc/hosts` (what the VPC's DNS is to a real instance);
  the host itself gets no such line, as the admin's machine does not resolve a private endpoint;
- the first connection starts the instance's server (`mariadb-install-db` into
  `<state>/databases/<id>/`, `mariadbd` on a unix socket only, started through processes.spawn
  so it ends with the simulator), creates the master user with the password the secret holds
  now (a changed secret is applied on the next connection) and the instance's DBName database;
  connections are then relayed to it. Starting lazily keeps the stacks that never connect (most
  tests) from paying for two servers each;
- an instance whose status is not `available` (StopDBInstance: `stopped`, or being deleted)
  refuses connections, as an unreachable server does.

`GET /_fleet/databases` lists them (address, port, database, user, whether started, the server's
socket) for tests that check data from the host through the socket as root.
"""
import errno
import logging
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from . import moto_adapter, processes, state

log = logging.getLogger("fleet.databases")
ENGINES = ("mysql", "mariadb")
HOSTS_BEGIN = "# fleet: RDS endpoints (begin)"
HOSTS_END = "# fleet: RDS endpoints (end)"


class Database:
    """One DB instance: its listener on the endpoint, and its server once someone connected."""

    def __init__(self, state_dir, region, record):
        self.region = region
        self.id = record["id"]
        self.name = record["address"]
        self.port = record["port"]
        self.directory = os.path.join(state_dir, "databases", self.id)
        self.socket_path = os.path.join(self.directory, "mysqld.sock")
        if len(self.socket_path) > 100:   # a unix socket's path holds 108 bytes at most
            self.socket_path = os.path.join(tempfile.mkdtemp(prefix="fleet-db-"), "mysqld.sock")
        self.record = record
        self.server = None
        self.ready = False   # started and its master user made: what `describe` reports
        self.applied_password = None
        self.starting = threading.Lock()
        self.closed = False
        self.listener, self.address = self._listen()
        threading.Thread(target=self._accept, daemon=True, name=f"db {self.id}").start()

    def _listen(self):
        generator = random.Random()
        for _ in range(200):
            address = f"127.{generator.randint(1, 254)}.{generator.randint(0, 255)}.{generator.randint(1, 254)}"
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                listener.bind((address, self.port))
            except OSError as error:
                listener.close()
                if error.errno == errno.EADDRINUSE:
                    continue
                raise
            listener.listen(64)
            return listener, address
        raise OSError(f"no free loopback address for database {self.id}")

    def describe(self):
        return {"id": self.id, "region": self.region, "endpoint": self.name, "address": self.address,
                "port": self.port, "database": self.record["database"], "username": self.record["username"],
                "status": self.record["status"], "started": self.ready,
                "socket": self.socket_path if self.ready else None}

    def close(self):
        self.closed = True
        try:
            self.listener.close()
        except OSError:
            pass
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
        if not self.socket_path.startswith(self.directory):
            shutil.rmtree(os.path.dirname(self.socket_path), ignore_errors=True)

    # --- connections ---------------------------------------------------------------------------
    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True, name=f"db {self.id} conn").start()

    def _serve(self, client):
        try:
            with state.LOCK:
                current = {entry["id"]: entry for entry in moto_adapter.db_instances(self.region)}.get(self.id)
            if current is None or current["status"] != "available" or not current["password"]:
                client.close()   # stopped, being deleted, or no credentials: as if unreachable
                return
            self.record = current
            self._ensure_server(current)
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.socket_path)
        except Exception as error:   # the client sees a closed connection, the log says why
            log.warning("database %s: %s", self.id, error)
            client.close()
            return
        relay(client, upstream)

    def _ensure_server(self, record):
        with self.starting:
            if self.server is None or self.server.poll() is not None:
                self._start_server()
            elif not self.ready:
                self._wait_answering()   # an earlier start timed out on a busy machine
            if self.applied_password != record["password"]:
                self._apply_credentials(record)
            self.ready = True

    def _start_server(self):
        self.ready = False
        data = os.path.join(self.directory, "data")
        os.makedirs(self.directory, exist_ok=True)
        # Its own tmpdir: a mariadbd starting deletes every `#sql*` file in its tmpdir, which in a
        # shared /tmp are the live temporary tables of every other server on the machine; the
        # install's bootstrap server is one too (two installs at once in /tmp failed each other).
        tmpdir = os.path.join(self.directory, "tmp")
        os.makedirs(tmpdir, exist_ok=True)
        if not os.path.isdir(os.path.join(data, "mysql")):
            # Installed aside and renamed when complete: a failed install is never taken for a datadir.
            installing = data + ".installing"
            shutil.rmtree(data, ignore_errors=True)
            shutil.rmtree(installing, ignore_errors=True)
            result = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={installing}", "--user=root",
                                     "--auth-root-authentication-method=socket", "--skip-test-db", f"--tmpdir={tmpdir}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if result.returncode != 0:
                shutil.rmtree(installing, ignore_errors=True)
                said = result.stderr.decode(errors="replace").strip().splitlines()[-3:]
                raise OSError(f"mariadb-install-db for {self.id} failed (exit {result.returncode}): {' | '.join(said)}")
            os.rename(installing, data)
        self.server = processes.spawn(
            ["mariadbd", "--no-defaults", f"--datadir={data}", "--user=root", "--skip-networking",
             f"--tmpdir={tmpdir}",
             f"--socket={self.socket_path}", f"--pid-file={self.directory}/mysqld.pid",
             "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci", "--max-allowed-packet=1G",
             "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=64M", "--innodb-flush-log-at-trx-commit=2",
             "--skip-log-bin", f"--log-error={self.directory}/error.log"],
            f"database {self.id}", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.applied_password = None
        self._wait_answering()

    def _wait_answering(self, seconds=180):
        """Until the server answers root on its socket (a loaded machine takes its time)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self._root_sql("SELECT 1", check=False) == 0:
                return
            if self.server.poll() is not None:
                break
            time.sleep(0.1)
        raise OSError(f"mariadbd for {self.id} did not start; see {self.directory}/error.log")

    def _apply_credentials(self, record):
        password = record["password"].replace("\\", "\\\\").replace("'", "\\'")
        user = record["username"].replace("'", "")
        statements = "".join(
            f"CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{password}';\n"
            f"ALTER USER '{user}'@'{host}' IDENTIFIED BY '{password}';\n"
            f"GRANT ALL PRIVILEGES ON *.* TO '{user}'@'{host}' WITH GRANT OPTION;\n" for host in ("%", "localhost"))
        if record.get("database"):
            statements += f"CREATE DATABASE IF NOT EXISTS `{record['database'].replace('`', '')}`;\n"
        self._root_sql(statements)
        self.applied_password = record["password"]

    def _root_sql(self, statements, check=True):
        # The password goes on stdin with the statements, never on a command line.
        result = subprocess.run(["mariadb", f"--socket={self.socket_path}", "-uroot"], input=statements.encode(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if check and result.returncode != 0:
            raise OSError(f"database {self.id}: {result.stderr.decode(errors='replace').strip()}")
        return result.returncode


def relay(client, upstream):
    """Copies bytes both ways until either side closes."""
    def pump(source, target):
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
    other = threading.Thread(target=pump, args=(upstream, client), daemon=True, name="db relay")
    other.start()
    pump(client, upstream)
    other.join()
    client.close()
    upstream.close()


class Databases:
    """Follows moto's DB instances: a listener for each new one, none for one deleted."""

    def __init__(self, state_dir, run_command):
        self.state_dir = state_dir
        self.run_command = run_command
        self.databases = {}   # (region, id) -> Database
        self.lock = threading.Lock()

    def sync(self):
        with state.LOCK:
            found = {(region, record["id"]): record for region in sorted(self.run_command.regions)
                     for record in moto_adapter.db_instances(region) if record["engine"] in ENGINES}
        with self.lock:
            for key in [key for key in self.databases if key not in found]:
                self.databases.pop(key).close()
            for key, record in found.items():
                if key not in self.databases:
                    try:
                        self.databases[key] = Database(self.state_dir, key[0], record)
                    except OSError as error:
                        log.warning("database %s: %s", key[1], error)
                else:
                    self.databases[key].record = record
            return list(self.databases.values())

    def hosts_lines(self):
        return [f"{database.address} {database.name}" for database in self.sync()]

    def publish_hosts(self, root):
        """Puts the endpoints' lines in the instance's /etc/hosts (only when they changed)."""
        lines = self.hosts_lines()
        path = os.path.join(root, "etc", "hosts")
        try:
            with open(path) as handle:
                text = handle.read()
        except OSError:
            text = ""
        begin, end = text.find(HOSTS_BEGIN), text.find(HOSTS_END)
        kept = text[:begin] + text[end + len(HOSTS_END):].lstrip("\n") if begin >= 0 and end > begin else text
        block = "\n".join([HOSTS_BEGIN, *lines, HOSTS_END]) + "\n" if lines else ""
        wanted = (kept if kept.endswith("\n") or not kept else kept + "\n") + block
        if wanted != text:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            temporary = path + ".fleet"
            with open(temporary, "w") as handle:
                handle.write(wanted)
            os.replace(temporary, path)

    def describe(self):
        return {"databases": [database.describe() for database in self.sync()]}

    def stop(self):
        """Closes every listener and removes the socket directories made outside the state."""
        with self.lock:
            for database in self.databases.values():
                database.close()
            self.databases.clear()
