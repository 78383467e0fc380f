//! `kasan symbolize` on a real binary: frames gain file:line, other lines pass through.

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn decodes_frames_of_a_gcc_binary() {
    let dir = std::env::temp_dir().join(format!("kasan-symbolize-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("prog.c");
    std::fs::write(
        &src,
        "int leaf(int x)\n{\n\treturn x * 3;\n}\n\nint main(void)\n{\n\treturn leaf(2);\n}\n",
    )
    .unwrap();
    let bin = dir.join("prog");
    let status = Command::new("gcc")
        .args(["-g", "-O0", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .expect("gcc runs");
    assert!(status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_kasan"))
        .arg("symbolize")
        .arg(&bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Offset 1 as a return address is the function's first byte: its opening line.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"BUG: KASAN: x in leaf+0x1/0x10\n <TASK>\n leaf+0x1/0x10\n kept as is\n\
              RIP: 0010:leaf+0x1/0x10\nRIP: 0010:0x1\n",
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "BUG: KASAN: x in leaf+0x1/0x10");
    assert_eq!(lines[1], " <TASK>");
    assert!(lines[2].starts_with(" leaf+0x1/0x10 "), "{text}");
    assert!(lines[2].ends_with("prog.c:2"), "{text}");
    assert_eq!(lines[3], " kept as is");
    // The oops's faulting instruction decodes the same way; an address without a
    // line stays as it is.
    assert!(lines[4].starts_with("RIP: 0010:leaf+0x1/0x10 "), "{text}");
    assert!(lines[4].ends_with("prog.c:2"), "{text}");
    assert_eq!(lines[5], "RIP: 0010:0x1", "{text}");
    std::fs::remove_dir_all(&dir).ok();
}
