#!/usr/bin/env python3
"""Writes the archives the Archive tests read, into the directory given: one SQL text in every
format sync-db accepts, plus broken and hostile ones. Prints the SQL text's length."""
import bz2
import gzip
import io
import lzma
import os
import subprocess
import sys
import tarfile
import zipfile

directory = sys.argv[1]
SQL = "".join(f"INSERT INTO `users` VALUES ({n},'user{n}@example.com','Zoë {n}');\n" for n in range(20000)).encode()
SECOND = b"CREATE TABLE `orders` (id INT);\n" * 1000


def path(name):
    return os.path.join(directory, name)


with open(path("dump.sql"), "wb") as handle:
    handle.write(SQL)
with gzip.open(path("dump.sql.gz"), "wb") as handle:
    handle.write(SQL)
with bz2.open(path("dump.sql.bz2"), "wb") as handle:
    handle.write(SQL)
with lzma.open(path("dump.sql.xz"), "wb") as handle:
    handle.write(SQL)
subprocess.run(["zstd", "-q", "-f", path("dump.sql"), "-o", path("dump.sql.zst")], check=True)


def add(archive, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


for name, mode in [("bundle.tar.gz", "w:gz"), ("bundle.tgz", "w:gz"), ("bundle.tar.bz2", "w:bz2"), ("bundle.tar.xz", "w:xz"),
                   ("bundle.tar", "w")]:
    with tarfile.open(path(name), mode) as archive:
        directory_entry = tarfile.TarInfo("dump")
        directory_entry.type = tarfile.DIRTYPE
        archive.addfile(directory_entry)
        add(archive, "dump/01-users.sql", SQL)
        add(archive, "dump/02-orders.sql", SECOND)
subprocess.run(["zstd", "-q", "-f", path("bundle.tar"), "-o", path("bundle.tar.zst")], check=True)
with zipfile.ZipFile(path("bundle.zip"), "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("dump/01-users.sql", SQL)
    archive.writestr("dump/02-orders.sql", SECOND)

with open(path("dump.sql.gz"), "rb") as handle:
    whole = handle.read()
with open(path("truncated.sql.gz"), "wb") as handle:
    handle.write(whole[: len(whole) // 2])
with tarfile.open(path("traversal.tar"), "w") as archive:
    add(archive, "../../evil.sql", b"DROP DATABASE x;\n")
with tarfile.open(path("absolute.tar"), "w") as archive:
    add(archive, "/etc/evil.sql", b"DROP DATABASE x;\n")
with gzip.open(path("bomb.sql.gz"), "wb", compresslevel=9) as handle:
    # Not zeros: a gzipped run of zeros reads as an empty tar archive (two zero blocks end a tar).
    block = b"-- " + b"A" * ((1 << 20) - 4) + b"\n"
    for _ in range(300):
        handle.write(block)
print(len(SQL), len(SECOND))

# A zip whose first member's CRC-32 (local header and central directory) is wrong: libarchive
# 3.6.2 answers archive_read_data with ARCHIVE_WARN ("ZIP bad CRC"), not a byte count.
with zipfile.ZipFile(path("bad-crc.zip"), "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("dump/01-users.sql", SQL)
    archive.writestr("dump/02-orders.sql", SECOND)
with open(path("bad-crc.zip"), "rb") as handle:
    damaged = bytearray(handle.read())
local = damaged.find(b"PK\x03\x04")
central = damaged.find(b"PK\x01\x02")
crc = int.from_bytes(damaged[local + 14:local + 18], "little") ^ 0xDEADBEEF
damaged[local + 14:local + 18] = crc.to_bytes(4, "little")
damaged[central + 16:central + 20] = crc.to_bytes(4, "little")
with open(path("bad-crc.zip"), "wb") as handle:
    handle.write(damaged)

# A tar whose second header has a wrong checksum: archive_read_next_header answers ARCHIVE_RETRY
# ("Damaged tar archive"), and calling again would skip that member without a word.
with tarfile.open(path("damaged-header.tar"), "w") as archive:
    add(archive, "dump/01-users.sql", SECOND)
    add(archive, "dump/02-orders.sql", SECOND)
    add(archive, "dump/03-items.sql", SECOND)
with open(path("damaged-header.tar"), "rb") as handle:
    damaged = bytearray(handle.read())
second = 512 + (len(SECOND) + 511) // 512 * 512
damaged[second + 148:second + 156] = b"0000000\0"
with open(path("damaged-header.tar"), "wb") as handle:
    handle.write(damaged)
