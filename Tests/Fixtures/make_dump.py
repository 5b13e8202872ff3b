#!/usr/bin/env python3
"""Generates a production-like database on a MariaDB server and dumps it with mariadb-dump, the
way `adminctl db dump prod` publishes dumps, for sync-db's tests and Benchmarks/sync-db.

    make_dump.py --socket SOCK --database NAME --out FILE.sql [--tables 12] [--rows 1000]
                 [--text-bytes 200] [--objects]

Tables have uneven sizes (table i gets rows * (i + 1) // 2 rows), unicode text, blobs, NULLs,
secondary and unique indexes and foreign keys; with --objects the database also has a view, a
trigger, a procedure and a function. Prints a JSON document: per-table row counts and
CHECKSUM TABLE values, and the dump's size.
"""
import argparse
import json
import os
import subprocess
import sys


def sql(sock, statements, database=None):
    command = ["mariadb", f"--socket={sock}", "-uroot", "--batch", "--skip-column-names", "--default-character-set=utf8mb4"]
    if database:
        command.append(database)
    result = subprocess.run(command, input=statements.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit(f"mariadb: {result.stderr.decode()}")
    return result.stdout.decode()


def create(sock, database, tables, rows, text_bytes, objects):
    statements = [f"DROP DATABASE IF EXISTS `{database}`;",
                  f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;",
                  f"USE `{database}`;",
                  "CREATE TABLE customer (id INT PRIMARY KEY, email VARCHAR(190) NOT NULL, name VARCHAR(100) NOT NULL,"
                  " password_hash CHAR(60) NOT NULL, UNIQUE KEY email (email)) ENGINE=InnoDB;",
                  f"INSERT INTO customer SELECT seq, CONCAT('user', seq, '@example.com'), CONCAT('Zoë ', seq, ' Müller-Ñandú 日本'),"
                  f" RPAD(SHA2(seq, 256), 60, 'x') FROM seq_1_to_{max(1, rows)};"]
    repeats = max(1, text_bytes // 128)
    for index in range(tables):
        name = f"t{index:02d}_{['orders', 'events', 'invoices', 'lines', 'audit', 'items'][index % 6]}"
        count = max(1, rows * (index + 1) // 2)
        statements.append(
            f"CREATE TABLE `{name}` (id BIGINT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT NULL,"
            f" label VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL, body MEDIUMTEXT, payload BLOB NULL,"
            f" amount DECIMAL(12,2) NOT NULL, created_at DATETIME NOT NULL,"
            f" KEY created (created_at), KEY customer_amount (customer_id, amount),"
            f" CONSTRAINT `{name}_customer` FOREIGN KEY (customer_id) REFERENCES customer (id)) ENGINE=InnoDB;")
        statements.append(
            f"INSERT INTO `{name}` (id, customer_id, label, body, payload, amount, created_at) SELECT seq,"
            f" 1 + seq % {max(1, rows)},"
            f" CONCAT('étiquette ', seq, ' — ', ELT(1 + seq % 4, 'a;b', 'it''s', 'back\\\\slash', 'ünïcødé 🚀')),"
            f" REPEAT(CONCAT(SHA2(seq, 512)), {repeats}),"
            f" IF(seq % 5 = 0, NULL, UNHEX(SHA2(seq * 7, 256))),"
            f" (seq % 100000) / 100,"
            f" '2026-01-01 00:00:00' + INTERVAL seq MINUTE"
            f" FROM seq_1_to_{count};")
    if objects:
        statements += [
            "CREATE VIEW customer_totals AS SELECT c.id, c.email, COUNT(o.id) AS orders FROM customer c"
            " LEFT JOIN t00_orders o ON o.customer_id = c.id GROUP BY c.id, c.email;",
            "CREATE TABLE audit_log (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(200)) ENGINE=InnoDB;",
            "CREATE TRIGGER customer_audit AFTER UPDATE ON customer FOR EACH ROW"
            " INSERT INTO audit_log (note) VALUES (CONCAT('customer ', NEW.id, ' changed; was ', OLD.email));",
        ]
    script = "\n".join(statements)
    if objects:
        # Routines with bodies need the client's DELIMITER, as in any real schema script.
        script += ("\nDELIMITER //\n"
                   "CREATE PROCEDURE count_customers(OUT total INT) BEGIN SELECT COUNT(*) INTO total FROM customer; END//\n"
                   "CREATE FUNCTION double_it(x INT) RETURNS INT DETERMINISTIC RETURN x * 2//\n"
                   "DELIMITER ;\n")
    sql(sock, script)


def summary(sock, database):
    tables = [line for line in sql(sock, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
                                          " AND table_type = 'BASE TABLE' ORDER BY table_name;", database).split("\n") if line]
    result = {}
    for table in tables:
        count = sql(sock, f"SELECT COUNT(*) FROM `{table}`;", database).strip()
        checksum = sql(sock, f"CHECKSUM TABLE `{table}`;", database).split("\t")[-1].strip()
        result[table] = {"rows": int(count), "checksum": checksum}
    return result


def dump(sock, database, out):
    with open(out, "wb") as handle:
        subprocess.run(["mariadb-dump", f"--socket={sock}", "-uroot", "--single-transaction", "--routines", "--triggers",
                        "--events", "--hex-blob", database], stdout=handle, check=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--tables", type=int, default=12)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--text-bytes", type=int, default=200)
    parser.add_argument("--objects", action="store_true")
    arguments = parser.parse_args()
    create(arguments.socket, arguments.database, arguments.tables, arguments.rows, arguments.text_bytes, arguments.objects)
    dump(arguments.socket, arguments.database, arguments.out)
    print(json.dumps({"tables": summary(arguments.socket, arguments.database), "bytes": os.path.getsize(arguments.out)},
                     sort_keys=True))


if __name__ == "__main__":
    main()
