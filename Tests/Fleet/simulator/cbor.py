"""The little of CBOR (RFC 8949) the simulator writes: maps, text, integers, booleans, floats.

Services whose model lists the smithy-rpc-v2-cbor protocol (CloudWatch) answer errors in CBOR
when called that way; this encodes those bodies without a CBOR library.
"""
import struct


def _head(major, value):
    if value < 24:
        return bytes([major << 5 | value])
    for info, size in ((24, "B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if value < 1 << (8 * struct.calcsize(size)):
            return bytes([major << 5 | info]) + struct.pack(size, value)
    raise ValueError("integer too large for CBOR")


def encode(value):
    if value is None:
        return b"\xf6"
    if value is True:
        return b"\xf5"
    if value is False:
        return b"\xf4"
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        data = value.encode("utf-8")
        return _head(3, len(data)) + data
    if isinstance(value, (list, tuple)):
        return _head(4, len(value)) + b"".join(encode(item) for item in value)
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(encode(key) + encode(item) for key, item in value.items())
    raise TypeError(f"cannot encode {type(value).__name__} as CBOR")
