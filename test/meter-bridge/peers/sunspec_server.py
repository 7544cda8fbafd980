#!/usr/bin/python3
"""An independent SunSpec peer for the meter-bridge tests: pymodbus (Debian
python3-pymodbus 3.0) serving a SunSpec map built here in Python from the
official model JSON, over Modbus TCP or RTU (a serial port, e.g. one end of a
socat pseudo-terminal pair). Each unit id gets its own values, so a test can
tell two units on one bus apart.

usage: sunspec_server.py (--tcp PORT | --rtu PATH) [--units 1,2] [--models DIR]
Prints READY when serving. Values per unit u (raw registers, scale factors given):
  common: Mn "PyPeer", Md "Unit<u>", SN "SN-<u>"; model 1 length 65 (no Pad)
  103: W = 1000*u (W_SF 0), Hz 5000 (Hz_SF -2), PhVphA 2300+u (V_SF -1), WH 100000*u (WH_SF 0)
  203: W = -250*u (W_SF 1), Hz 4998 (Hz_SF -2), PhV 2310 (V_SF -1),
       TotWhImp 7000+u, TotWhExp 9000+u (TotWh_SF 1)
"""
import argparse
import json
import os
import struct
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext

BASE = 40000


def load(models_dir, mid):
    with open(os.path.join(models_dir, "model_%d.json" % mid)) as f:
        g = json.load(f)["group"]
    off = 0
    pts = {}
    order = []
    for p in g["points"]:
        size = p.get("size", 1)
        pts[p["name"]] = (off, size, p["type"])
        order.append((p["name"], off, size, p["type"]))
        off += size
    return pts, order, off - 2


def unimpl(t, size):
    if t in ("int16", "sunssf", "pad"):
        return [0x8000]
    if t in ("uint16", "enum16", "bitfield16"):
        return [0xFFFF]
    if t in ("acc32",):
        return [0, 0]
    if t == "int32":
        return [0x8000, 0]
    if t in ("uint32", "bitfield32", "enum32"):
        return [0xFFFF, 0xFFFF]
    if t == "float32":
        return [0x7FC0, 0]
    return [0] * size


def enc(t, v, size):
    if t == "string":
        b = v.encode("latin1")[: size * 2].ljust(size * 2, b"\0")
        return list(struct.unpack(">%dH" % size, b))
    if t in ("int16", "sunssf"):
        return [v & 0xFFFF]
    if t in ("uint16", "enum16"):
        return [v]
    if t in ("acc32", "uint32", "int32"):
        v &= 0xFFFFFFFF
        return [v >> 16, v & 0xFFFF]
    raise ValueError(t)


def build(models_dir, u):
    regs = [0x5375, 0x6E53]
    spec = [
        (1, 65, {"Mn": "PyPeer", "Md": "Unit%d" % u, "SN": "SN-%d" % u, "Vr": "3.0"}),
        (103, None, {"W": 1000 * u, "W_SF": 0, "Hz": 5000, "Hz_SF": -2, "PhVphA": 2300 + u, "V_SF": -1, "WH": 100000 * u, "WH_SF": 0}),
        (203, None, {"W": -250 * u, "W_SF": 1, "Hz": 4998, "Hz_SF": -2, "PhV": 2310, "V_SF": -1, "TotWhImp": 7000 + u, "TotWhExp": 9000 + u, "TotWh_SF": 1}),
    ]
    for mid, length, values in spec:
        pts, order, full = load(models_dir, mid)
        L = full if length is None else length
        start = len(regs)
        regs += [mid, L]
        for name, off, size, t in order[2:]:
            if off + size > L + 2:
                break
            regs += enc(t, values[name], size) if name in values else unimpl(t, size)
        assert len(regs) == start + 2 + L, (mid, len(regs) - start)
    regs += [0xFFFF, 0]
    return regs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp", type=int)
    ap.add_argument("--rtu")
    ap.add_argument("--units", default="1")
    ap.add_argument("--models", default=os.path.join(os.path.dirname(__file__), "../../../meter-bridge/sunspec/models"))
    a = ap.parse_args()
    slaves = {}
    for u in [int(x) for x in a.units.split(",")]:
        # zero_mode: register N of the request is index N of the block (no 1-based shift).
        block = ModbusSequentialDataBlock(BASE, build(a.models, u))
        slaves[u] = ModbusSlaveContext(hr=block, ir=block, zero_mode=True)
    ctx = ModbusServerContext(slaves=slaves, single=False)
    print("READY", flush=True)
    if a.tcp:
        from pymodbus.server import StartTcpServer
        StartTcpServer(context=ctx, address=("127.0.0.1", a.tcp))
    else:
        from pymodbus.server import StartSerialServer
        from pymodbus.transaction import ModbusRtuFramer
        StartSerialServer(context=ctx, framer=ModbusRtuFramer, port=a.rtu, baudrate=9600, timeout=0.005)


if __name__ == "__main__":
    sys.exit(main())
