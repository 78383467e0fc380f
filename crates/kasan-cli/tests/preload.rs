//! An uninstrumented program (plain `gcc`, no `kasan cc` at its link) that uses an
//! instrumented shared library (`kasan cc -shared`) runs with the runtime preloaded:
//! `LD_PRELOAD=libkasan.so`. Its library's heap and global bugs are reported in the
//! library's functions, with `file:line`; the program's own `malloc` is the runtime's
//! too; a clean run prints nothing; without the preload the library cannot load.
//! Both ways of using the library are checked: `dlopen`, and linking against it (which
//! needs `-Wl,--allow-shlib-undefined`, as the library names the runtime's symbols
//! without a `DT_NEEDED` for it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::*;

/// The program: calls the library through `dlopen` (argv[1] the library, argv[2]
/// `heap` or `global`, argv[3] the index) or, built with `-DLINKED`, as a library it
/// was linked against.
fn program() -> String {
    r#"#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef LINKED
int lib_heap_read(int n, int i);
int lib_global_read(int i);
#endif

int main(int argc, char **argv)
{
	int (*heap)(int, int);
	int (*global)(int);
	int i = atoi(argv[3]);
	char *own = malloc(24);
#ifdef LINKED
	heap = lib_heap_read;
	global = lib_global_read;
#else
	void *h = dlopen(argv[1], RTLD_NOW);

	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 3;
	}
	heap = (int (*)(int, int))dlsym(h, "lib_heap_read");
	global = (int (*)(int))dlsym(h, "lib_global_read");
#endif
	if (strcmp(argv[2], "heap") == 0)
		printf("%d\n", heap(13, i));
	else
		printf("%d\n", global(i));
	free(own);
	fprintf(stderr, "after\n");
	return 0;
}
"#
    .to_string()
}

fn kasan() -> &'static str {
    env!("CARGO_BIN_EXE_kasan")
}

/// The runtime's shared library, next to the `kasan` binary.
fn libkasan_so() -> PathBuf {
    Path::new(kasan()).parent().unwrap().join("libkasan.so")
}

fn check(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the library with `kasan cc -shared` and the program with plain gcc.
fn build(name: &str, linked: bool) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kasan-preload-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("lib.c"), LIBRARY).unwrap();
    std::fs::write(d.join("main.c"), program()).unwrap();
    check(
        Command::new(kasan())
            .args([
                "cc",
                "-g",
                "-O1",
                "-fPIC",
                "-shared",
                "lib.c",
                "-o",
                "libinst.so",
            ])
            .current_dir(&d)
            .env_remove("KASAN_CC")
            .env_remove("KASAN_LIB_DIR")
            .env_remove("KASAN_INCLUDE_DIR"),
    );
    let mut gcc = Command::new("gcc");
    gcc.args(["-g", "-O1", "main.c", "-o", "main"])
        .current_dir(&d);
    if linked {
        gcc.args([
            "-DLINKED",
            "-L.",
            "-linst",
            "-Wl,--allow-shlib-undefined",
            &format!("-Wl,-rpath,{}", d.display()),
        ]);
    } else {
        gcc.arg("-ldl");
    }
    check(&mut gcc);
    d
}

fn run(d: &Path, preload: bool, what: &str, i: &str) -> Output {
    let mut cmd = Command::new(d.join("main"));
    cmd.arg(d.join("libinst.so"))
        .args([what, i])
        .current_dir(d)
        .env_remove("KASAN_OPTIONS")
        .env_remove("LD_PRELOAD");
    if preload {
        cmd.env("LD_PRELOAD", libkasan_so());
    }
    cmd.output().unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn both_bugs_reported(d: &Path) {
    let heap = run(d, true, "heap", "13");
    let e = err(&heap);
    assert_eq!(heap.status.code(), Some(0), "{e}");
    assert_eq!(e.matches("BUG: KASAN:").count(), 1, "{e}");
    assert!(
        e.contains("BUG: KASAN: slab-out-of-bounds in lib_heap_read+0x"),
        "{e}"
    );
    assert!(e.contains("Read of size 1 at addr "), "{e}");
    assert!(e.contains(&format!("lib.c:{HEAP_READ_LINE}")), "{e}");
    assert!(
        e.contains(" which belongs to the cache kmalloc-16 of size 16"),
        "{e}"
    );
    assert!(e.ends_with("after\n"), "{e}");

    let global = run(d, true, "global", "4");
    let e = err(&global);
    assert_eq!(global.status.code(), Some(0), "{e}");
    assert!(
        e.contains("BUG: KASAN: global-out-of-bounds in lib_global_read+0x"),
        "{e}"
    );
    assert!(e.contains(&format!("lib.c:{GLOBAL_READ_LINE}")), "{e}");
    assert!(e.contains("lib_global"), "{e}");

    let clean = run(d, true, "heap", "12");
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(err(&clean), "after\n");
    assert_eq!(String::from_utf8_lossy(&clean.stdout), "7\n");
}

#[test]
fn a_dlopened_instrumented_library_under_ld_preload() {
    let d = build("dlopen", false);
    both_bugs_reported(&d);
    // Without the runtime, the library's first runtime symbol is missing.
    let out = run(&d, false, "heap", "12");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        err(&out).contains("undefined symbol: __asan_"),
        "{}",
        err(&out)
    );
}

#[test]
fn a_linked_instrumented_library_under_ld_preload() {
    let d = build("linked", true);
    both_bugs_reported(&d);
    let out = run(&d, false, "heap", "12");
    assert_ne!(out.status.code(), Some(0));
    assert!(
        err(&out).contains("undefined symbol: __asan_"),
        "{}",
        err(&out)
    );
}
