#!/usr/bin/python3
"""A raw Modbus RTU responder (pyserial, no Modbus library) that answers late
on command, for the bridge's late-reply test on a serial line.

usage: late_rtu.py PATH LATE_MS SECOND_MS
Serves holding registers 0..9 of unit 1. Register 0 holds a counter of
requests seen (1, 2, 3, ...), so a reply tells which request it answers;
registers 1..9 hold 100+i. The FIRST request is answered LATE_MS late, the
second SECOND_MS late (so a retry is still waiting when the late frame
arrives), the rest at once. Prints READY when the port is open.
"""
import struct
import sys
import threading
import time

import serial


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def frame(body):
    return body + struct.pack("<H", crc16(body))


def main():
    path, late_ms, second_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    port = serial.Serial(path, 9600, timeout=0.005)
    print("READY", flush=True)
    buf = b""
    seen = 0
    while True:
        buf += port.read(256)
        # A read request is 8 bytes: unit, fc, addr(2), count(2), crc(2).
        while len(buf) >= 8:
            req = buf[:8]
            if crc16(req[:6]) != struct.unpack("<H", req[6:8])[0]:
                buf = buf[1:]
                continue
            buf = buf[8:]
            unit, fc, addr, count = struct.unpack(">BBHH", req[:6])
            if unit != 1:
                continue
            seen += 1
            regs = [seen if a == 0 else 100 + a for a in range(addr, addr + count)]
            body = struct.pack(">BBB", unit, fc, 2 * count) + struct.pack(">%dH" % count, *regs)
            reply = frame(body)
            if seen <= 2:
                delay = late_ms if seen == 1 else second_ms
                threading.Timer(delay / 1000.0, lambda r=reply: port.write(r)).start()
            else:
                port.write(reply)


if __name__ == "__main__":
    main()
