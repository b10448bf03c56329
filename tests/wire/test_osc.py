"""wire.osc packs and unpacks the protocol's messages exactly as python-osc does."""

from __future__ import annotations

import random
import struct

import pytest
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from wire.osc import pack_message, unpack_message


def _random_message(rng: random.Random) -> tuple[str, str, list]:
    tags = "".join(rng.choice("iifs") for _ in range(rng.randrange(0, 40)))
    args: list = []
    for tag in tags:
        if tag == "i":
            args.append(rng.randrange(-2**31, 2**31))
        elif tag == "f":
            args.append(rng.choice([0.0, -1.5, 1e-3, 123.25, rng.uniform(-1e6, 1e6)]))
        else:
            args.append("".join(rng.choice("ab/é🎹 x") for _ in range(rng.randrange(0, 9))))
    address = "/diffjam/" + "".join(rng.choice("abcdefg/") for _ in range(rng.randrange(0, 7)))
    return address, tags, args


def _python_osc(address: str, tags: str, args: list) -> bytes:
    builder = OscMessageBuilder(address)
    for tag, value in zip(tags, args, strict=True):
        builder.add_arg(value, tag)
    return builder.build().dgram


def test_packing_gives_python_oscs_bytes_and_unpacking_its_values() -> None:
    rng = random.Random(0)
    for _ in range(500):
        address, tags, args = _random_message(rng)
        data = pack_message(address, tags, args)
        assert data == _python_osc(address, tags, args)
        unpacked = unpack_message(data)
        assert unpacked is not None
        assert unpacked[0] == address and unpacked[1] == tags
        assert unpacked[2] == OscMessage(data).params


def test_other_types_and_bundles_are_left_to_python_osc() -> None:
    assert pack_message("/x", "iT", [1, True]) is None
    blob = OscMessageBuilder("/x")
    blob.add_arg(b"\x01\x02", "b")
    assert unpack_message(blob.build().dgram) is None
    assert unpack_message(b"#bundle\x00" + bytes(8)) is None
    assert unpack_message(b"/x\x00\x00") is None  # no type tag string


@pytest.mark.parametrize("data", [
    b"/x\x00\x00,i\x00\x00\x00\x00",  # an int cut short
    b"/x\x00\x00,s\x00\x00abcd",  # a string without its NUL
    b"/x\x00\x00,s\x00\x00\xff\xfe\x00\x00",  # not UTF-8
    b"/x",  # no NUL after the address
])
def test_a_datagram_it_cannot_read_is_none(data: bytes) -> None:
    assert unpack_message(data) is None


def test_an_int_outside_int32_is_refused_as_packing_it_would() -> None:
    with pytest.raises(struct.error):
        pack_message("/x", "i", [2**31])
