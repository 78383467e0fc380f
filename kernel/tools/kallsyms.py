#!/usr/bin/env python3
"""Writes the kernel's symbol table (the format platform.rs reads) from `nm` output.

    kallsyms.py <nm -n -S --defined-only -C output> <out.bin>

Only symbols of the image (boot code at 1 MiB, then the higher half) are kept, sorted by address; a
symbol without a size gets the distance to the next one.
"""
import struct
import sys



def main():
    syms = []
    for line in open(sys.argv[1]):
        parts = line.rstrip("\n").split(" ", 3)
        if len(parts) == 4 and len(parts[2]) == 1:
            addr, size, kind, name = int(parts[0], 16), int(parts[1], 16), parts[2], parts[3]
        elif len(parts) >= 3 and len(parts[1]) == 1:
            addr, size, kind, name = int(parts[0], 16), 0, parts[1], " ".join(parts[2:])
        else:
            continue
        if addr < 0x100000 or kind not in "tTdDbBrR" or name.startswith("__kallsyms"):
            continue
        syms.append((addr, size, name))
    syms.sort()
    out, names = [], b""
    for i, (addr, size, name) in enumerate(syms):
        if size == 0 and i + 1 < len(syms):
            size = syms[i + 1][0] - addr
        out.append((addr, min(size, 0xFFFFFFFF), len(names)))
        names += name.encode() + b"\0"
    blob = struct.pack("<I", len(out))
    for addr, size, off in out:
        blob += struct.pack("<QII", addr, size, off)
    open(sys.argv[2], "wb").write(blob + names)


main()
