"""What the fault-scripted Modbus peers share: serving one device over
Modbus TCP or RTU (pymodbus 3.0, Debian python3-pymodbus) and the control
channel a test drives it with.

Control channel: one command per line on stdin. The peer applies it between
two Modbus requests (on the server's event loop, so no request ever sees half
a change) and then answers on stdout with one line, "OK <command>" or
"ERR <command>: <why>". A test writes a command and waits for its answer, so
what the next poll reads is known exactly, however loaded the machine is.
Nothing in a peer changes by wall time.

Commands every peer knows (each device adds its own, see its file):
  offline     stop answering (requests are read and dropped, as a device
              that lost power or its RS485 link: the client times out)
  online      answer again
  state       print the device's state as one JSON line, then OK
"""
import asyncio
import json
import sys
import threading

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.exceptions import NoSuchSlaveException
from pymodbus.server.async_io import ModbusSerialServer, ModbusTcpServer
from pymodbus.transaction import ModbusRtuFramer, ModbusSocketFramer


class LimitedBlock(ModbusSequentialDataBlock):
    """A register block that refuses requests longer than the device allows
    (Eastron: 40 float parameters, i.e. 80 registers, per request) or outside
    its map: pymodbus answers those with an exception, as the device does."""

    def __init__(self, address, values, max_count):
        super().__init__(address, values)
        self.max_count = max_count

    def validate(self, address, count=1):
        return count <= self.max_count and super().validate(address, count)


class SwitchableContext(ModbusServerContext):
    """The server context with an offline switch. Offline, every unit is
    missing; with ignore_missing_slaves pymodbus then sends nothing back."""

    def __init__(self, slaves):
        super().__init__(slaves=slaves, single=False)
        self.offline = False

    def __getitem__(self, slave):
        if self.offline:
            raise NoSuchSlaveException("device offline (scripted)")
        return super().__getitem__(slave)


def slave(hr=None, ir=None):
    """A unit's context. zero_mode: request address N reads block index N."""
    empty = ModbusSequentialDataBlock(0, [0])
    return ModbusSlaveContext(hr=hr or empty, ir=ir or empty, di=empty, co=empty, zero_mode=True)


def parse_pairs(args):
    """`key=value` words as a dict of ints (the device's integer units)."""
    out = {}
    for a in args:
        if "=" not in a:
            raise ValueError("expected key=value, got %r" % a)
        k, v = a.split("=", 1)
        out[k] = int(v)
    return out


def _reply(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _handle(device, context, line):
    words = line.split()
    if not words:
        return
    name, args = words[0], words[1:]
    try:
        if name == "offline":
            context.offline = True
        elif name == "online":
            context.offline = False
        elif name == "state":
            _reply(json.dumps(device.state(), sort_keys=True))
        else:
            fn = getattr(device, "cmd_" + name, None)
            if fn is None:
                raise ValueError("unknown command %r" % name)
            fn(*args)
        _reply("OK " + line)
    except Exception as exc:  # a bad command is answered, never fatal
        _reply("ERR %s: %s" % (line, exc))


def _read_stdin(loop, device, context, stopped):
    for raw in sys.stdin:
        loop.call_soon_threadsafe(_handle, device, context, raw.strip())
    # The test closed our stdin (or ended): stop serving.
    loop.call_soon_threadsafe(stopped.set)


async def _serve(device, units, args):
    context = SwitchableContext({u: device.context(u) for u in units})
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    if args.tcp is not None:
        server = ModbusTcpServer(context, framer=ModbusSocketFramer, address=("127.0.0.1", args.tcp), allow_reuse_address=True, ignore_missing_slaves=True)
        task = asyncio.create_task(server.serve_forever())
        await server.serving  # bound and listening
    else:
        server = ModbusSerialServer(context, framer=ModbusRtuFramer, port=args.rtu, baudrate=9600, timeout=0.005, ignore_missing_slaves=True)
        await server.start()
        task = asyncio.create_task(server.serve_forever())
    _reply("READY")
    threading.Thread(target=_read_stdin, args=(loop, device, context, stopped), daemon=True).start()
    await stopped.wait()
    await server.shutdown()
    task.cancel()


def run(device, argv=None):
    """Parses --tcp PORT | --rtu PATH and --units, serves `device` until stdin closes."""
    import argparse

    p = argparse.ArgumentParser()
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--tcp", type=int)
    g.add_argument("--rtu")
    p.add_argument("--units", default="1")
    args = p.parse_args(argv)
    units = [int(u) for u in args.units.split(",")]
    try:
        asyncio.run(_serve(device, units, args))
    except KeyboardInterrupt:
        pass
