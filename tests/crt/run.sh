#!/usr/bin/env bash
# Builds and runs every tests/*.c|*.cpp (C rewrites of compiler-rt's ASan lit tests)
# against the kasan runtime, in several variants, and prints a table.
#
#   bash run.sh [-k /path/to/kasan] [-v gcc,clang,outline,clang-outline] [-j N] [NAME...]
#
# Directives, in comments anywhere in a test file:
#   // EXPECT: silent                 no "BUG: KASAN", no "kasan: SEGV/stack-overflow/bus",
#                                     exit status 0 (unless EXIT says otherwise)
#   // EXPECT: any                    report or not: only the other checks apply
#   // EXPECT: nobug                  no "BUG: KASAN" line (the other checks, e.g. EXPECT-TEXT
#                                     "kasan: SEGV", and EXIT, say what must happen instead)
#   // EXPECT: <type-ERE> <Access>    the FIRST "BUG: KASAN: <type> in" line matches the
#                                     ERE (e.g. slab-out-of-bounds, (slab|kmalloc)-use-after-free)
#                                     and the line after it starts with <Access> (Read|Write|Free
#                                     for double-free/invalid-free reports, or "-" to skip)
#   // EXPECT-SIZE: N                 "... of size N" on the access line
#   // EXPECT-IN: FUNC                "BUG: KASAN: <type> in FUNC+" (ERE, e.g. (__)?memcpy)
#   // EXPECT-TEXT: text              text (fixed string) must appear in stderr
#   // EXPECT-NOTEXT: text            text must NOT appear in stderr
#   // EXPECT-STDOUT: text            text must appear in stdout
#   // EXPECT-COUNT: N                exactly N "BUG: KASAN:" lines (use with OPTIONS multi-shot)
#   // EXIT: N|nonzero|any            required exit status (default: 0 for silent, any otherwise)
#   // OPTIONS: ...                   KASAN_OPTIONS for the run
#   // ARGS: ...                      program arguments
#   // CFLAGS: ...  / LDFLAGS: ...    extra compile / link flags
#   // LIB: other.c                   build tests/other.c as lib<NAME>.so (-shared -fPIC) first;
#                                     the program gets -DLIB_PATH=\"...\" (for dlopen)
#   // LINK-LIB                        also link the program against that library
#   // EXTRA-SRC: other.c             compile tests/other.c into the same program
#   // VARIANTS: gcc,clang            restrict the variants this test runs in
#   // TIMEOUT: seconds               default 20
#   // XFAIL: v1,v2 -- reason          a failure in these variants (or "all") is a known
#                                     compiler/platform limitation, not a runtime bug: shown
#                                     as "xfail" (and "XPASS" if it passes), not counted as FAIL
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
KASAN=${KASAN:-$PWD/../../target/release/kasan}
VARIANTS=gcc,clang,outline
JOBS=1
while [ $# -gt 0 ]; do
  case "$1" in
    -k) KASAN=$2; shift 2;;
    -v) VARIANTS=$2; shift 2;;
    -j) JOBS=$2; shift 2;;
    *) break;;
  esac
done
B=${CRT_BUILD_DIR:-../../target/crt}
mkdir -p "$B"
if [ $# -gt 0 ]; then
  TESTS=()
  for n in "$@"; do n=${n%.c}; n=${n%.cpp}; n=${n#tests/}
    if [ -f tests/$n.c ]; then TESTS+=(tests/$n.c); elif [ -f tests/$n.cpp ]; then TESTS+=(tests/$n.cpp); else echo "no test $n" >&2; fi
  done
else
  # helper sources (NAME.lib.c, NAME.two.c, ...: LIB / EXTRA-SRC inputs) are not tests
  TESTS=($(ls tests/*.c tests/*.cpp 2>/dev/null | grep -vE '\.(lib|two)\.(c|cpp)$' | sort))
fi

directive() { # file key -> values (one per line)
  sed -n "s|^.*// $2: *\(.*\)\$|\1|p" "$1" | sed 's/[[:space:]]*$//'
}

# run_one FILE VARIANT -> prints "PASS" or "FAIL: reason" ; logs in build/
run_one() {
  local f=$1 v=$2 name ext out cc flags=() cxx=0 log
  name=$(basename "$f"); ext=${name##*.}; name=${name%.*}
  [ "$ext" = cpp ] && cxx=1
  out=$B/$name.$v
  log=$B/$name.$v.log
  local env=()
  case $v in
    gcc) ;;
    clang) if [ $cxx = 1 ]; then env=(KASAN_CC=clang++-19); else env=(KASAN_CC=clang-19); fi;;
    outline) flags=(--outline);;
    clang-outline) flags=(--outline); if [ $cxx = 1 ]; then env=(KASAN_CC=clang++-19); else env=(KASAN_CC=clang-19); fi;;
  esac
  local vr; vr=$(directive "$f" VARIANTS)
  if [ -n "$vr" ] && ! echo ",$vr," | grep -q ",$v,"; then echo "SKIP"; return; fi
  local cflags ldflags lib
  cflags=$(directive "$f" CFLAGS); ldflags=$(directive "$f" LDFLAGS); lib=$(directive "$f" LIB)
  local libargs=() extra
  extra=$(directive "$f" EXTRA-SRC)
  [ -n "$extra" ] && libargs+=(tests/$extra)
  if [ -n "$lib" ]; then
    local so=$PWD/$B/lib$name.$v.so
    local lenv=("${env[@]}")
    case $v in clang|clang-outline) case $lib in *.cpp) lenv=(KASAN_CC=clang++-19);; *) lenv=(KASAN_CC=clang-19);; esac;; esac
    if ! env "${lenv[@]}" "$KASAN" cc "${flags[@]}" -g -O1 -shared -fPIC tests/$lib -o "$so" >"$log.build" 2>&1; then
      echo "FAIL: lib build error"; return; fi
    libargs+=(-DLIB_PATH="\"$so\"")
    if grep -q '// LINK-LIB' "$f"; then libargs+=("$so" -Wl,-rpath,"$PWD/$B"); fi
  fi
  # shellcheck disable=SC2086
  if ! env "${env[@]}" "$KASAN" cc "${flags[@]}" -g -O1 $cflags "$f" "${libargs[@]}" -o "$out" $ldflags -lpthread -ldl >"$log.build" 2>&1; then
    echo "FAIL: build error (see $log.build)"; return; fi
  local opts args to
  opts=$(directive "$f" OPTIONS); args=$(directive "$f" ARGS); to=$(directive "$f" TIMEOUT); to=${to:-20}
  local rc
  # shellcheck disable=SC2086
  KASAN_OPTIONS="$opts" timeout -k 2 "$to" "./$out" $args >"$log.out" 2>"$log" </dev/null
  rc=$?
  if [ $rc = 124 ] || [ $rc = 137 ]; then echo "FAIL: timeout/hang (rc=$rc)"; return; fi
  local exp; exp=$(directive "$f" EXPECT | head -1)
  local exitexp; exitexp=$(directive "$f" EXIT)
  local first firstline nextline
  firstline=$(grep -m1 -n 'BUG: KASAN:' "$log" | cut -d: -f1)
  if [ "$exp" = silent ]; then
    if [ -n "$firstline" ]; then echo "FAIL: unexpected report: $(sed -n "${firstline}p" "$log" | sed 's/+0x.*//') / $(sed -n "$((firstline+1))p" "$log" | sed 's/ at addr.*//')"; return; fi
    if grep -qE '^kasan: (SEGV|stack-overflow|bus error)' "$log"; then echo "FAIL: $(grep -m1 -E '^kasan: (SEGV|stack-overflow|bus error)' "$log" | cut -c1-80)"; return; fi
    exitexp=${exitexp:-0}
  elif [ "$exp" = any ]; then
    :
  elif [ "$exp" = nobug ]; then
    if [ -n "$firstline" ]; then echo "FAIL: unexpected report: $(sed -n "${firstline}p" "$log" | sed 's/+0x.*//') / $(sed -n "$((firstline+1))p" "$log" | sed 's/ at addr.*//')"; return; fi
  else
    local type acc
    type=$(echo "$exp" | awk '{print $1}'); acc=$(echo "$exp" | awk '{print $2}')
    if [ -z "$firstline" ]; then
      if grep -qE '^kasan: ' "$log"; then echo "FAIL: no report; $(grep -m1 -E '^kasan: ' "$log" | cut -c1-90) (rc=$rc)"; else echo "FAIL: silent (rc=$rc)"; fi
      return
    fi
    first=$(sed -n "${firstline}p" "$log"); nextline=$(sed -n "$((firstline+1))p" "$log")
    if ! echo "$first" | grep -qE "BUG: KASAN: ($type) in "; then
      echo "FAIL: wrong type: $(echo "$first" | sed 's/+0x.*//; s/^.*BUG: KASAN: //') / $(echo "$nextline" | sed 's/ at addr.*//')"; return; fi
    if [ -n "$acc" ] && [ "$acc" != - ] && ! echo "$nextline" | grep -qE "^($acc)"; then
      echo "FAIL: wrong access: $(echo "$nextline" | sed 's/ at addr.*//') (want $acc)"; return; fi
    local sz; sz=$(directive "$f" EXPECT-SIZE)
    if [ -n "$sz" ] && ! echo "$nextline" | grep -qE "of size ($sz) "; then
      echo "FAIL: wrong size: $(echo "$nextline" | sed 's/ at addr.*//') (want $sz)"; return; fi
    local fn; fn=$(directive "$f" EXPECT-IN)
    if [ -n "$fn" ] && ! echo "$first" | grep -qE "KASAN: [a-z-]+ in ($fn)\+"; then
      echo "FAIL: wrong function: $(echo "$first" | sed 's/+0x.*//; s/^.*BUG: KASAN: //') (want $fn)"; return; fi
  fi
  local t
  while IFS= read -r t; do [ -z "$t" ] && continue
    if ! grep -qF -- "$t" "$log"; then echo "FAIL: missing text '$t'"; return; fi
  done < <(directive "$f" EXPECT-TEXT)
  while IFS= read -r t; do [ -z "$t" ] && continue
    if grep -qF -- "$t" "$log"; then echo "FAIL: unwanted text '$t'"; return; fi
  done < <(directive "$f" EXPECT-NOTEXT)
  while IFS= read -r t; do [ -z "$t" ] && continue
    if ! grep -qF -- "$t" "$log.out"; then echo "FAIL: missing stdout '$t' (rc=$rc)"; return; fi
  done < <(directive "$f" EXPECT-STDOUT)
  local cnt; cnt=$(directive "$f" EXPECT-COUNT)
  if [ -n "$cnt" ]; then local got; got=$(grep -c 'BUG: KASAN:' "$log")
    if [ "$got" != "$cnt" ]; then echo "FAIL: $got reports, want $cnt"; return; fi; fi
  case "${exitexp:-any}" in
    any) ;;
    nonzero) if [ $rc = 0 ]; then echo "FAIL: exit 0, want nonzero"; return; fi;;
    *) if [ "$rc" != "$exitexp" ]; then echo "FAIL: exit $rc, want $exitexp$(grep -m1 -E '^kasan: ' "$log" | cut -c1-80 | sed 's/^/; /')"; return; fi;;
  esac
  echo PASS
}

IFS=, read -r -a VS <<<"$VARIANTS"
declare -A npass ntot nxfail
for v in "${VS[@]}"; do npass[$v]=0; ntot[$v]=0; nxfail[$v]=0; done
xfails=(); xpass=()
printf '%-42s' TEST; for v in "${VS[@]}"; do printf ' %-8s' "$v"; done; echo
fails=()
for f in "${TESTS[@]}"; do
  name=$(basename "$f"); name=${name%.*}
  printf '%-42s' "$name"
  for v in "${VS[@]}"; do
    r=$(run_one "$f" "$v")
    xf=$(directive "$f" XFAIL | head -1); xfv=${xf%% --*}
    if [ -n "$xf" ] && { [ "$xfv" = all ] || echo ",$xfv," | grep -q ",$v,"; }; then
      case $r in PASS) r=XPASS;; FAIL*) r="XFAIL${r#FAIL}";; esac
    fi
    case $r in
      XPASS) printf ' %-8s' XPASS; npass[$v]=$((npass[$v]+1)); ntot[$v]=$((ntot[$v]+1)); xpass+=("$name [$v]");;
      XFAIL*) printf ' %-8s' xfail; nxfail[$v]=$((nxfail[$v]+1)); ntot[$v]=$((ntot[$v]+1)); xfails+=("$name [$v]: ${r#XFAIL: } (known: ${xf#* -- })");;
      PASS) printf ' %-8s' pass; npass[$v]=$((npass[$v]+1)); ntot[$v]=$((ntot[$v]+1));;
      SKIP) printf ' %-8s' -;;
      *) printf ' %-8s' FAIL; ntot[$v]=$((ntot[$v]+1)); fails+=("$name [$v]: ${r#FAIL: }");;
    esac
  done
  echo
done
echo
printf '%-42s' "PASS/TOTAL"; for v in "${VS[@]}"; do printf ' %-8s' "${npass[$v]}/${ntot[$v]}"; done; echo
printf '%-42s' "xfail (known limitations)"; for v in "${VS[@]}"; do printf ' %-8s' "${nxfail[$v]}"; done; echo
printf '%-42s' "FAIL"; for v in "${VS[@]}"; do printf ' %-8s' "$((ntot[$v]-npass[$v]-nxfail[$v]))"; done; echo
if [ ${#fails[@]} -gt 0 ]; then echo; echo "Failures:"; printf '  %s\n' "${fails[@]}"; fi
if [ ${#xfails[@]} -gt 0 ]; then echo; echo "Known limitations (xfail):"; printf '  %s\n' "${xfails[@]}"; fi
if [ ${#xpass[@]} -gt 0 ]; then echo; echo "Unexpected passes (XPASS):"; printf '  %s\n' "${xpass[@]}"; fi
