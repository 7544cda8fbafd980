#!/usr/bin/python3
"""A SunSpec device for the meter-data tests, written from the SunSpec
Information Model (the official model JSON, and the public register map it
describes), independent of the project's simulators and decoder: a household
with a PV inverter (model 103), its nameplate (model 120, WRtg) and a grid
meter (model 203), behind common model 1, at base 40000 ("SunS").

usage: sunspec_device.py (--tcp PORT | --rtu PATH) [--units 1] [--models DIR]
Prints READY when it serves; then takes commands on stdin (peer_runtime.py
describes the channel; each command is answered "OK <command>").

The device keeps the true energy in Wh (integers); the registers show it the
way firmware does, raw = floor(Wh / 10^SF):
  grid imp=WH exp=WH w=W     set the meter's true counters / power (any subset)
  add imp=WH exp=WH pv=WH    advance the true counters (meter import, export; inverter)
  pv wh=WH w=W               set the inverter's true counter / power
  sf K                       change TotWh_SF consistently: raw rescaled to 10^K Wh steps
  pvsf K                     change WH_SF consistently
  glitch K                   TotWh_SF reads K while the raw counters stay as they are
                             (and stay frozen, whatever add says, until unglitch)
  unglitch                   TotWh_SF back, raw counters from the true Wh again
  reset                      the meter's counters restart at 0 Wh (a replaced board)
  rated W [SF]               model 120 WRtg = W, WRtg_SF = SF (default 0): W x 10^SF watts
  rated none                 model 120 WRtg and WRtg_SF "not implemented" (0xFFFF, 0x8000)
  sleep                      operating state St = SLEEPING, W = 0 (counters kept)
  sleep sentinels            as at night: St = SLEEPING and W, Hz, PhVphA, WH and
                             WH_SF are SunSpec "not implemented" (0x8000, 0xFFFF, acc32 0)
  wake                       St = MPPT, values back
  offline / online / state   (peer_runtime.py)

Sign conventions of the map: model 203 W is positive when the site imports;
model 103 W is the inverter's output (positive when producing).
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_runtime import LimitedBlock, parse_pairs, run, slave  # noqa: E402

BASE = 40000
END = 0xFFFF
# Offsets from the public register map (SunSpec Information Model, ID = 0,
# L = 1, points after), checked against the official JSON at start: a layout
# built only from the JSON would agree with any decoder built from the JSON.
PUBLIC_MAP = {
    1: {"Mn": 2, "Md": 18, "Vr": 42, "SN": 50, "DA": 66},
    103: {"W": 14, "W_SF": 15, "Hz": 16, "Hz_SF": 17, "PhVphA": 10, "V_SF": 13, "WH": 24, "WH_SF": 26, "St": 38},
    120: {"DERTyp": 2, "WRtg": 3, "WRtg_SF": 4},
    203: {"PhV": 7, "V_SF": 15, "Hz": 16, "Hz_SF": 17, "W": 18, "W_SF": 22, "TotWhExp": 38, "TotWhImp": 46, "TotWh_SF": 54},
}
LENGTHS = {1: 66, 103: 50, 120: 26, 203: 105}
ST_SLEEPING = 2
ST_MPPT = 4
NOT_IMPL = {"int16": 0x8000, "sunssf": 0x8000, "uint16": 0xFFFF, "enum16": 0xFFFF}


def load_model(models_dir, mid):
    with open(os.path.join(models_dir, "model_%d.json" % mid)) as f:
        group = json.load(f)["group"]
    points, off = {}, 0
    for p in group["points"]:
        points[p["name"]] = (off, p.get("size", 1), p["type"])
        off += p.get("size", 1)
    if off - 2 != LENGTHS[mid]:
        raise SystemExit("model %d: JSON length %d, public map %d" % (mid, off - 2, LENGTHS[mid]))
    for name, want in PUBLIC_MAP[mid].items():
        if points[name][0] != want:
            raise SystemExit("model %d point %s: JSON offset %d, public map %d" % (mid, name, points[name][0], want))
    return points


def words_of(t, v, size):
    if t == "string":
        return list(struct.unpack(">%dH" % size, v.encode("latin1")[: size * 2].ljust(size * 2, b"\0")))
    if t in ("int16", "sunssf"):
        return [v & 0xFFFF]
    if t in ("uint16", "enum16", "pad"):
        return [v & 0xFFFF]
    if t == "acc32":
        return [(v >> 16) & 0xFFFF, v & 0xFFFF]
    raise ValueError("no encoder for %s" % t)


class SunSpecDevice:
    def __init__(self, models_dir):
        self.models = {m: load_model(models_dir, m) for m in (1, 103, 120, 203)}
        self.addr = {}
        at = BASE + 2
        for m in (1, 103, 120, 203):
            self.addr[m] = at
            at += LENGTHS[m] + 2
        self.end = at
        self.block = LimitedBlock(BASE, [0] * (self.end + 2 - BASE), 125)
        self.imp = 0
        self.exp = 0
        self.w = 0
        self.pv_wh = 0
        self.pv_w = 0
        self.sf = 0
        self.pv_sf = 0
        self.glitch_sf = None
        self.frozen = None  # raw counters held during a glitch
        self.rated = 5000  # WRtg raw, or None: not implemented
        self.rated_sf = 0
        self.asleep = None  # None, "state" or "sentinels"
        self.refresh()

    def context(self, _unit):
        return slave(hr=self.block)

    def put(self, mid, name, value):
        off, size, t = self.models[mid][name]
        self.block.setValues(self.addr[mid] + off, words_of(t, value, size))

    def raw_counters(self):
        if self.frozen is not None:
            return self.frozen
        step = 10 ** self.sf
        return (self.imp // step, self.exp // step)

    def refresh(self):
        self.block.setValues(BASE, [0x5375, 0x6E53])  # "SunS"
        for m in (1, 103, 120, 203):
            self.block.setValues(self.addr[m], [m, LENGTHS[m]])
        self.block.setValues(self.end, [END, 0])
        self.put(1, "Mn", "IndependentPeer")
        self.put(1, "Md", "Household-PV")
        self.put(1, "Vr", "4.2.1")
        self.put(1, "SN", "PEER-0001")
        self.put(1, "DA", 1)
        # 120 nameplate
        self.put(120, "DERTyp", 4)  # PV
        self.put(120, "WRtg", NOT_IMPL["uint16"] if self.rated is None else self.rated)
        self.put(120, "WRtg_SF", NOT_IMPL["sunssf"] if self.rated is None else self.rated_sf)
        # 203 meter
        imp_raw, exp_raw = self.raw_counters()
        self.put(203, "PhV", 2305)
        self.put(203, "V_SF", -1)
        self.put(203, "Hz", 5001)
        self.put(203, "Hz_SF", -2)
        self.put(203, "W", self.w)
        self.put(203, "W_SF", 0)
        self.put(203, "TotWhImp", imp_raw)
        self.put(203, "TotWhExp", exp_raw)
        self.put(203, "TotWh_SF", self.sf if self.glitch_sf is None else self.glitch_sf)
        # 103 inverter
        night = self.asleep == "sentinels"
        self.put(103, "St", ST_SLEEPING if self.asleep else ST_MPPT)
        self.put(103, "W", NOT_IMPL["int16"] if night else (0 if self.asleep else self.pv_w))
        self.put(103, "W_SF", 0)
        self.put(103, "Hz", NOT_IMPL["uint16"] if night else 5001)
        self.put(103, "Hz_SF", -2)
        self.put(103, "PhVphA", NOT_IMPL["uint16"] if night else 2303)
        self.put(103, "V_SF", -1)
        self.put(103, "WH", 0 if night else self.pv_wh // 10 ** self.pv_sf)
        self.put(103, "WH_SF", NOT_IMPL["sunssf"] if night else self.pv_sf)

    # --- commands -----------------------------------------------------------
    def cmd_grid(self, *args):
        kv = parse_pairs(args)
        self.imp = kv.get("imp", self.imp)
        self.exp = kv.get("exp", self.exp)
        self.w = kv.get("w", self.w)
        self.refresh()

    def cmd_pv(self, *args):
        kv = parse_pairs(args)
        self.pv_wh = kv.get("wh", self.pv_wh)
        self.pv_w = kv.get("w", self.pv_w)
        self.refresh()

    def cmd_add(self, *args):
        kv = parse_pairs(args)
        if any(v < 0 for v in kv.values()):
            raise ValueError("counters only advance")
        self.imp += kv.get("imp", 0)
        self.exp += kv.get("exp", 0)
        self.pv_wh += kv.get("pv", 0)
        self.refresh()

    def cmd_sf(self, k):
        self.sf = int(k)
        self.refresh()

    def cmd_pvsf(self, k):
        self.pv_sf = int(k)
        self.refresh()

    def cmd_glitch(self, k):
        self.frozen = self.raw_counters()
        self.glitch_sf = int(k)
        self.refresh()

    def cmd_unglitch(self):
        self.frozen = None
        self.glitch_sf = None
        self.refresh()

    def cmd_reset(self):
        self.imp = 0
        self.exp = 0
        self.refresh()

    def cmd_rated(self, w, sf="0"):
        self.rated = None if w == "none" else int(w)
        self.rated_sf = int(sf)
        self.refresh()

    def cmd_sleep(self, *how):
        self.asleep = "sentinels" if how == ("sentinels",) else "state"
        self.refresh()

    def cmd_wake(self):
        self.asleep = None
        self.refresh()

    def state(self):
        imp_raw, exp_raw = self.raw_counters()
        return {"imp": self.imp, "exp": self.exp, "w": self.w, "pv_wh": self.pv_wh, "pv_w": self.pv_w, "sf": self.sf, "glitch_sf": self.glitch_sf, "raw_imp": imp_raw, "raw_exp": exp_raw, "asleep": self.asleep, "addr": self.addr}


def main():
    argv = sys.argv[1:]
    # The official model JSON (Apache-2.0), copied beside this peer so it needs nothing of the project.
    models = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sunspec-models")
    if "--models" in argv:
        i = argv.index("--models")
        models = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    run(SunSpecDevice(models), argv)


if __name__ == "__main__":
    main()
