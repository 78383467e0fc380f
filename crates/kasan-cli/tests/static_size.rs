//! What the statically linked runtime adds to a program: a hello-world linked by
//! `kasan cc` may be at most 2 MB (2,000,000 bytes) bigger than the same program linked
//! by plain `gcc`, both at `-O1` and again both with `-g` (the runtime ships no debug
//! information of its own, so `-g` adds only the program's). gcc 12's
//! `-fsanitize=address -static-libasan` adds about 1.4 MB to the same program; the
//! README records both numbers.

use std::path::{Path, PathBuf};
use std::process::Command;

const LIMIT: u64 = 2_000_000;

const HELLO: &str = "#include <stdio.h>\n\nint main(void)\n{\n\tputs(\"hello\");\n\treturn 0;\n}\n";

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("kasan-static-size-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("hello.c"), HELLO).unwrap();
    d
}

fn build(d: &Path, kasan: bool, args: &[&str], out: &str) -> u64 {
    let mut cmd = if kasan {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kasan"));
        c.arg("cc")
            .env_remove("KASAN_CC")
            .env_remove("KASAN_LIB_DIR")
            .env_remove("KASAN_INCLUDE_DIR");
        c
    } else {
        Command::new("gcc")
    };
    let status = cmd
        .args(args)
        .args(["hello.c", "-o", out])
        .current_dir(d)
        .status()
        .unwrap();
    assert!(status.success(), "{cmd:?}");
    let run = Command::new(d.join(out)).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "hello\n");
    assert!(
        run.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::metadata(d.join(out)).unwrap().len()
}

#[test]
fn the_runtime_adds_at_most_2_mb() {
    let d = dir();
    for flags in [&["-O1"][..], &["-O1", "-g"][..]] {
        let plain = build(&d, false, flags, "plain");
        let ours = build(&d, true, flags, "ours");
        let added = ours - plain;
        println!("{flags:?}: plain {plain} bytes, kasan cc {ours} bytes: {added} added");
        assert!(
            added <= LIMIT,
            "kasan cc {flags:?} adds {added} bytes to hello-world (limit {LIMIT})"
        );
    }
    std::fs::remove_dir_all(&d).ok();
}
