#!/usr/bin/env python3
"""Writes the kernel's symbol table (the format platform.rs reads) from `nm` output.

    kallsyms.py <nm -n -S --defined-only -C output> <out.bin>

Only symbols of the image (boot code at 1 MiB, then the higher half) are kept, sorted
by address; each reaches to the next one, as in Linux's kallsyms.
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
        # As Linux's kallsyms: a symbol reaches to the next one (a global's size
        # then covers the redzone the compiler put after it).
        if i + 1 < len(syms) and syms[i + 1][0] > addr:
            size = syms[i + 1][0] - addr
        out.append((addr, min(size, 0xFFFFFFFF), len(names)))
        names += name.encode() + b"\0"
    blob = struct.pack("<I", len(out))
    for addr, size, off in out:
        blob += struct.pack("<QII", addr, size, off)
    open(sys.argv[2], "wb").write(blob + names)


main()
