#!/usr/bin/python3
"""An Eastron SDM630-style three-phase meter for the meter-data tests, written
from Eastron's public Modbus protocol (input registers, function 04, each
parameter an IEEE 754 float32 in two registers, high word first; the manual's
3X addresses 30001.. are request addresses 0..), independent of the
project's profile and simulators.

usage: sdm630_meter.py (--tcp PORT | --rtu PATH) [--units 1]
Prints READY when it serves; then takes commands on stdin (peer_runtime.py
describes the channel; each command is answered "OK <command>").

The meter keeps the true energy in Wh (integers) and shows it in kWh,
quantised down to its display resolution, as the meter's registers do:
  grid imp=WH exp=WH w=W    set the true counters / total system power (any subset)
  add imp=WH exp=WH         advance the true counters
  res WH                    energy resolution: 10 (0.01 kWh) or 100 (0.1 kWh)
  reset                     counters restart at 0 kWh
  offline / online / state  (peer_runtime.py)

Input registers served (request address = 3X address − 30001):
  0, 2, 4     phase 1–3 line-to-neutral volts
  6, 8, 10    phase 1–3 current, A
  12, 14, 16  phase 1–3 power, W
  52          total system power, W (positive: import)
  62          total system power factor
  70          frequency, Hz
  72, 74      total import / export kWh
  342         total kWh (import + export)
A request for more than 40 parameters (80 registers) is refused with an
exception, as the manual states.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_runtime import LimitedBlock, parse_pairs, run, slave  # noqa: E402

REGISTERS = 400
MAX_REGISTERS_PER_REQUEST = 80


def f32(v):
    hi, lo = struct.unpack(">HH", struct.pack(">f", v))
    return [hi, lo]


class Sdm630:
    def __init__(self):
        self.block = LimitedBlock(0, [0] * REGISTERS, MAX_REGISTERS_PER_REQUEST)
        self.imp = 0
        self.exp = 0
        self.w = 0
        self.res = 10
        self.refresh()

    def context(self, _unit):
        return slave(ir=self.block)

    def kwh(self, wh):
        # The register holds the displayed value: whole resolution steps, in kWh.
        return (wh // self.res) * self.res / 1000.0

    def refresh(self):
        third = self.w / 3.0
        for i, v in enumerate((230.4, 231.0, 229.8)):
            self.block.setValues(2 * i, f32(v))
            self.block.setValues(6 + 2 * i, f32(abs(third) / v))
            self.block.setValues(12 + 2 * i, f32(third))
        self.block.setValues(52, f32(float(self.w)))
        self.block.setValues(62, f32(0.98))
        self.block.setValues(70, f32(50.02))
        self.block.setValues(72, f32(self.kwh(self.imp)))
        self.block.setValues(74, f32(self.kwh(self.exp)))
        self.block.setValues(342, f32(self.kwh(self.imp) + self.kwh(self.exp)))

    def cmd_grid(self, *args):
        kv = parse_pairs(args)
        self.imp = kv.get("imp", self.imp)
        self.exp = kv.get("exp", self.exp)
        self.w = kv.get("w", self.w)
        self.refresh()

    def cmd_add(self, *args):
        kv = parse_pairs(args)
        if any(v < 0 for v in kv.values()):
            raise ValueError("counters only advance")
        self.imp += kv.get("imp", 0)
        self.exp += kv.get("exp", 0)
        self.refresh()

    def cmd_res(self, wh):
        if int(wh) not in (1, 10, 100):
            raise ValueError("resolution is 1, 10 or 100 Wh")
        self.res = int(wh)
        self.refresh()

    def cmd_reset(self):
        self.imp = 0
        self.exp = 0
        self.refresh()

    def state(self):
        return {"imp": self.imp, "exp": self.exp, "w": self.w, "res": self.res, "imp_kwh": self.kwh(self.imp), "exp_kwh": self.kwh(self.exp)}


if __name__ == "__main__":
    run(Sdm630(), sys.argv[1:])
