"""RDS DB instances answer at their endpoint with a real MariaDB (databases.py): the endpoint name
resolves inside instances, the master user's password is the one the RDS-managed secret holds,
the DBName database exists, and a stopped instance refuses connections."""
import json
import subprocess
import urllib.request
import uuid

from polling import eventually
from test_isolation import run
from test_runcommand import launch


def control(simulator, route):
    with urllib.request.urlopen(f"{simulator.endpoint}/_fleet/{route}") as response:
        return json.load(response)


def create_database(simulator, name):
    rds = simulator.client("rds")
    database = rds.create_db_instance(DBInstanceIdentifier=name, Engine="mysql", DBInstanceClass="db.t4g.micro",
                                      AllocatedStorage=20, MasterUsername="nuvola_admin", DBName="app",
                                      ManageMasterUserPassword=True)["DBInstance"]
    secret = json.loads(simulator.client("secretsmanager").get_secret_value(
        SecretId=database["MasterUserSecret"]["SecretArn"])["SecretString"])
    [entry] = [item for item in control(simulator, "databases")["databases"] if item["id"] == name]
    return database, secret, entry


def client(entry, user, password, sql):
    """The mariadb client from the host at the database's loopback address; the password in an
    option file on stdin's place (never argv)."""
    options = f"[client]\nuser={user}\npassword={password}\n"
    return subprocess.run(["mariadb", "--defaults-extra-file=/dev/stdin", f"--host={entry['address']}",
                           f"--port={entry['port']}", "--batch", "--skip-column-names", "-e", sql],
                          input=options, capture_output=True, text=True, timeout=120)


def test_the_secret_holds_the_master_user_and_a_password_of_its_own(simulator):
    first, secret, _ = create_database(simulator, f"db-{uuid.uuid4().hex[:8]}")
    _, other, _ = create_database(simulator, f"db-{uuid.uuid4().hex[:8]}")
    assert secret["username"] == "nuvola_admin" == first["MasterUsername"]
    assert len(secret["password"]) >= 20 and secret["password"] != other["password"]   # generated for each
    assert first["Endpoint"]["Port"] == 3306


def test_the_endpoint_answers_with_the_master_user_and_the_database(simulator):
    name = f"db-{uuid.uuid4().hex[:8]}"
    database, secret, entry = create_database(simulator, name)
    assert entry["endpoint"] == database["Endpoint"]["Address"] and entry["address"].startswith("127.")
    assert not entry["address"].startswith("127.0.0.")
    result = client(entry, secret["username"], secret["password"], "SHOW DATABASES LIKE 'app'")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "app"
    wrong = client(entry, secret["username"], secret["password"] + "x", "SELECT 1")
    assert wrong.returncode != 0 and "Access denied" in wrong.stderr
    [after] = [item for item in control(simulator, "databases")["databases"] if item["id"] == name]
    assert after["started"] and not entry["started"]   # the first connection started the server


def test_the_endpoint_name_resolves_inside_instances_only(simulator):
    name = f"db-{uuid.uuid4().hex[:8]}"
    database, secret, entry = create_database(simulator, name)
    [instance] = launch(simulator, 1, {"Role": "db-client"})
    address = database["Endpoint"]["Address"]
    item, result = run(simulator, instance, f"getent hosts {address}")
    assert item["Status"] == "Success", result
    assert result["StandardOutputContent"].split()[0] == entry["address"]
    assert subprocess.run(["getent", "hosts", address], capture_output=True).returncode != 0   # not on the host


def test_a_stopped_instance_refuses_connections_and_a_started_one_answers_again(simulator):
    name = f"db-{uuid.uuid4().hex[:8]}"
    _, secret, entry = create_database(simulator, name)
    rds = simulator.client("rds")
    rds.stop_db_instance(DBInstanceIdentifier=name)
    refused = client(entry, secret["username"], secret["password"], "SELECT 1")
    assert refused.returncode != 0
    rds.start_db_instance(DBInstanceIdentifier=name)
    answered = eventually(lambda: client(entry, secret["username"], secret["password"], "SELECT 1").returncode == 0)
    assert answered


def test_a_deleted_instance_stops_listening(simulator):
    name = f"db-{uuid.uuid4().hex[:8]}"
    _, secret, entry = create_database(simulator, name)
    simulator.client("rds").delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
    assert eventually(lambda: all(item["id"] != name for item in control(simulator, "databases")["databases"]))
    assert client(entry, secret["username"], secret["password"], "SELECT 1").returncode != 0
