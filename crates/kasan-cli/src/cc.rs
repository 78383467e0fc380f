//! `kasan cc`: compile and link like `cc`, adding KASAN instrumentation and the runtime.
//!
//! ```text
//! kasan cc [--mode=generic|sw-tags] [--outline|--inline] [--print-flags] [compiler args...]
//! ```
//!
//! Our options come first; parsing stops at the first argument that is not one of them
//! (or after `--`), and everything from there on goes to the compiler verbatim. The
//! compiler is `gcc` (`g++` when an input is C++) unless `KASAN_CC` names another
//! (`KASAN_CC=clang-19`).
//!
//! The flag lists are built by pure functions ([`parse_args`], [`flags`], [`command_line`])
//! so the unit tests can pin them down without a compiler; only [`main`] touches the
//! environment, the file system and processes. `COMPILER-ABI.md` next to this crate lists
//! the `__asan_*` symbols each flag set makes the compilers emit.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::child;

/// Where the hosted runtime maps shadow: x86-64 userspace ASan's offset. gcc and clang
/// default to other values under `kernel-address` (gcc: none for x86-64 userspace, clang:
/// the kernel's 0xdffffc0000000000), so it is always passed explicitly.
pub const SHADOW_OFFSET: &str = "0x7fff8000";

/// The call threshold that keeps every check inline: functions with more instrumented
/// accesses than this switch to outline calls, and no real function has 100000.
const INLINE_THRESHOLD: u32 = 100_000;

/// What the Rust standard library in `libkasan.a` needs from the system: what
/// `rustc --print native-static-libs` prints for a staticlib on x86_64-unknown-linux-gnu,
/// except that the unwinder comes from the static `libgcc_eh` rather than `libgcc_s`, so
/// `-static` programs link too (the runtime never unwinds: it is built `panic=abort`).
/// `kasan cc` itself puts `libgcc_s` back for a dynamic link (see `command_line`).
pub const NATIVE_LIBS: &[&str] = &[
    "-lgcc_eh",
    "-lutil",
    "-lrt",
    "-lpthread",
    "-lm",
    "-ldl",
    "-lc",
];

/// The runtime archive's file name inside the library directory.
pub const RUNTIME_ARCHIVE: &str = "libkasan.a";
/// [`RUNTIME_ARCHIVE`] without debug information, which programs are linked with (see
/// `shipped_archive`).
pub const STRIPPED_ARCHIVE: &str = "libkasan-nodebug.a";

/// The runtime's whole exported ABI: compiler entry points, the kernel-style C API and the
/// interposed C functions, one name per line, `#` starting a comment.
const ABI_LIST: &str = include_str!("../../kasan-rt/src/abi.txt");

/// The names in [`ABI_LIST`], in its order.
pub fn abi_names() -> impl Iterator<Item = &'static str> {
    ABI_LIST
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
}

/// The instrumentation mode (`--mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Shadow bytes, one per 8-byte granule (`-fsanitize=kernel-address`).
    Generic,
    /// Software tag-based mode (`-fsanitize=kernel-hwaddress`, clang-19 only, outline).
    SwTags,
}

/// How the compiler emits shadow checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checks {
    /// The shadow load and compare are open-coded; only bad accesses call the runtime.
    Inline,
    /// Every access calls `__asan_{load,store}N_noabort`: smaller code, slower.
    Outline,
}

/// Which compiler driver's flag dialect to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompilerKind {
    /// gcc (or g++): `--param asan-*`.
    Gcc,
    /// clang (or clang++): `-mllvm -asan-*`.
    Clang,
}

/// Our own options, parsed from the front of `kasan cc`'s arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CcOptions {
    /// `--mode`.
    pub mode: Mode,
    /// `--inline` / `--outline`; the last one given wins.
    pub checks: Checks,
    /// Whether `--inline` was the last check style given (an error with sw-tags, whose
    /// checks are outline only).
    pub inline_given: bool,
    /// `--print-flags`: print the flags instead of compiling.
    pub print_flags: bool,
    /// `--help`: print our usage instead of compiling.
    pub help: bool,
}

impl Default for CcOptions {
    fn default() -> Self {
        CcOptions {
            mode: Mode::Generic,
            checks: Checks::Inline,
            inline_given: false,
            print_flags: false,
            help: false,
        }
    }
}

/// Usage text for `kasan cc --help`.
pub const USAGE: &str = "\
Usage: kasan cc [--mode=generic|sw-tags] [--outline|--inline] [--print-flags] [compiler args...]

Compiles and links like cc, adding KASAN instrumentation and the kasan runtime.
Our options must come first; everything from the first other argument (or after `--`)
is passed to the compiler verbatim.

Options:
  --mode=generic   shadow-byte KASAN, -fsanitize=kernel-address (default)
  --mode=sw-tags   software tag-based KASAN, -fsanitize=kernel-hwaddress: a random 4-bit
                   tag in every heap pointer, checked on each access (clang-19 only;
                   outline checks only, stack and globals are not checked)
  --inline         open-coded shadow checks (default in generic mode; faster)
  --outline        a runtime call per access (smaller code; the only choice for sw-tags)
  --print-flags    print KASAN_CFLAGS='...' and KASAN_LDFLAGS='...' shell assignments,
                   for eval \"$(kasan cc --print-flags)\" in other build systems
  --help           this text (`kasan cc -- --help` asks the compiler instead)

Environment:
  KASAN_CC           compiler to run (default gcc, g++ for C++ sources; e.g. clang-19,
                     clang++-19 for C++; sw-tags: default and only clang-19/clang++-19)
  KASAN_LIB_DIR      directory holding libkasan.a (default: the kasan binary's directory)
  KASAN_INCLUDE_DIR  directory holding kasan.h (default: the repository's include/)
";

/// Splits `kasan cc`'s arguments into our options and the compiler's arguments.
///
/// Stops at the first argument that is not ours, so `kasan cc -O2 x.c` passes `-O2 x.c`
/// through untouched; a `--` ends our options explicitly and is dropped.
pub fn parse_args(args: &[OsString]) -> Result<(CcOptions, &[OsString]), String> {
    let mut options = CcOptions::default();
    let mut i = 0;
    while i < args.len() {
        // Non-UTF-8 arguments are never ours (they are file names for the compiler).
        let Some(arg) = args[i].to_str() else { break };
        match arg {
            "--" => {
                i += 1;
                break;
            }
            "--inline" => {
                options.checks = Checks::Inline;
                options.inline_given = true;
            }
            "--outline" => {
                options.checks = Checks::Outline;
                options.inline_given = false;
            }
            "--print-flags" => options.print_flags = true,
            "--help" => options.help = true,
            "--mode" => {
                // `--mode generic` is accepted too: a forgotten `=` should not silently
                // hand `--mode` to the compiler.
                let value = args
                    .get(i + 1)
                    .and_then(|v| v.to_str())
                    .ok_or("--mode needs a value: generic or sw-tags")?;
                options.mode = parse_mode(value)?;
                i += 1;
            }
            _ => match arg.strip_prefix("--mode=") {
                Some(value) => options.mode = parse_mode(value)?,
                None => break,
            },
        }
        i += 1;
    }
    Ok((options, &args[i..]))
}

fn parse_mode(value: &str) -> Result<Mode, String> {
    match value {
        "generic" => Ok(Mode::Generic),
        "sw-tags" => Ok(Mode::SwTags),
        other => Err(format!(
            "unknown mode '{other}': expected generic or sw-tags"
        )),
    }
}

/// The compiler to run: a program, any leading arguments from `KASAN_CC`, and its dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiler {
    /// Program and leading arguments (`KASAN_CC="ccache clang-19"` gives two words).
    pub argv: Vec<String>,
    /// Which flag dialect it speaks.
    pub kind: CompilerKind,
}

/// Guesses the dialect from the command's words alone, without running anything.
///
/// `None` means the name says nothing (`cc`, `/opt/x/bin/compiler`); the caller then asks
/// the compiler itself with `--version`.
pub fn kind_from_name(argv: &[String]) -> Option<CompilerKind> {
    let names = || {
        argv.iter().map(|w| {
            Path::new(w)
                .file_name()
                .and_then(OsStr::to_str)
                .unwrap_or(w)
        })
    };
    // clang first: "clang" can't be mistaken for gcc, but a wrapper directory such as
    // /usr/lib/gcc-cross/... could be mistaken for gcc.
    if names().any(|n| n.contains("clang")) {
        Some(CompilerKind::Clang)
    } else if names().any(|n| n.contains("gcc") || n.contains("g++")) {
        Some(CompilerKind::Gcc)
    } else {
        None
    }
}

/// File-name endings gcc compiles as C++ (`.ii`: preprocessed C++).
const CXX_SUFFIXES: &[&str] = &[".cc", ".cp", ".cxx", ".cpp", ".CPP", ".c++", ".C", ".ii"];

/// Whether any input is C++: a file with a C++ ending, or a `-x c++...` language.
///
/// Object files say nothing, so linking C++ objects alone needs `KASAN_CC=g++`.
pub fn has_cxx_input(user_args: &[OsString]) -> bool {
    let mut args = user_args.iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "-x" {
            if args
                .next()
                .is_some_and(|l| l.to_string_lossy().starts_with("c++"))
            {
                return true;
            }
            continue;
        }
        if text.starts_with("-xc++") {
            return true;
        }
        if text.starts_with('-') {
            if OPTIONS_WITH_VALUE.contains(&text.as_ref()) {
                args.next();
            }
            continue;
        }
        if CXX_SUFFIXES.iter().any(|s| text.ends_with(s)) {
            return true;
        }
    }
    false
}

/// The compiler when `KASAN_CC` names none: `g++` for C++ inputs, whose link needs
/// libstdc++ (which `gcc` leaves out), else `gcc`.
pub fn default_compiler(user_args: &[OsString]) -> &'static str {
    if has_cxx_input(user_args) {
        "g++"
    } else {
        "gcc"
    }
}

/// Reads `KASAN_CC` (default [`default_compiler`]) and works out its dialect.
fn detect_compiler(user_args: &[OsString]) -> Result<Compiler, String> {
    let spec = std::env::var("KASAN_CC").unwrap_or_default();
    // Split on whitespace as make's $(CC) is, so a launcher such as ccache works.
    let mut argv: Vec<String> = spec.split_whitespace().map(str::to_owned).collect();
    if argv.is_empty() {
        argv.push(default_compiler(user_args).to_owned());
    }
    let kind = match kind_from_name(&argv) {
        Some(kind) => kind,
        None => {
            // `cc` may be either; the version banner says which. If it cannot even
            // run, assume gcc and let the real invocation report the failure.
            let output = Command::new(&argv[0])
                .args(&argv[1..])
                .arg("--version")
                .output();
            match output {
                Ok(out) if String::from_utf8_lossy(&out.stdout).contains("clang") => {
                    CompilerKind::Clang
                }
                _ => CompilerKind::Gcc,
            }
        }
    };
    Ok(Compiler { argv, kind })
}

/// The flags `kasan cc` adds: for compiling, and (after the user's arguments) for linking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flags {
    /// Instrumentation, `-I<include>`, `-D__KASAN__=1`.
    pub compile: Vec<String>,
    /// The runtime archive, whole, the system libraries it needs, and the runtime's ABI
    /// exported from the program.
    pub link: Vec<String>,
}

/// Builds the flags for a compiler dialect and check style. Pure: no I/O.
pub fn flags(kind: CompilerKind, checks: Checks, include_dir: &str, lib_dir: &str) -> Flags {
    let threshold = match checks {
        Checks::Inline => INLINE_THRESHOLD,
        Checks::Outline => 0,
    };
    let mut compile: Vec<String> = vec!["-fsanitize=kernel-address".into()];
    match kind {
        CompilerKind::Gcc => {
            // gcc's kernel-address defaults leave globals, stack and allocas
            // uninstrumented; turn them on. The one-word `--param=name=value` form
            // survives build systems (CMake) that de-duplicate repeated flags.
            compile.push(format!("-fasan-shadow-offset={SHADOW_OFFSET}"));
            for param in [
                "asan-globals=1".to_owned(),
                "asan-stack=1".to_owned(),
                "asan-instrument-allocas=1".to_owned(),
                format!("asan-instrumentation-with-call-threshold={threshold}"),
            ] {
                compile.push(format!("--param={param}"));
            }
        }
        CompilerKind::Clang => {
            // clang's defaults are already globals/stack/allocas on, but spelling them
            // out keeps the build independent of a future default change. The mem
            // intrinsic prefix turns memcpy/memset/memmove into checked __asan_* calls.
            for option in [
                format!("-asan-mapping-offset={SHADOW_OFFSET}"),
                format!("-asan-instrumentation-with-call-threshold={threshold}"),
                "-asan-globals=1".to_owned(),
                "-asan-stack=1".to_owned(),
                "-asan-instrument-dynamic-allocas=1".to_owned(),
                "-asan-kernel-mem-intrinsic-prefix=1".to_owned(),
            ] {
                compile.push("-mllvm".into());
                compile.push(option);
            }
        }
    }
    // The runtime takes alloc/free stacks by walking frame pointers.
    compile.push("-fno-omit-frame-pointer".into());
    compile.push(format!("-I{include_dir}"));
    compile.push("-D__KASAN__=1".into());

    // --whole-archive: the malloc family and the preinit constructor must be linked in
    // even though the program never names them.
    let mut link = vec![
        "-Wl,--whole-archive".to_owned(),
        format!("{lib_dir}/{RUNTIME_ARCHIVE}"),
        "-Wl,--no-whole-archive".to_owned(),
    ];
    link.extend(NATIVE_LIBS.iter().map(|l| (*l).to_owned()));
    // An executable's dynamic symbol table holds only what the shared libraries named at
    // link time use, so a library loaded later with dlopen would not find the runtime
    // (`undefined symbol: __asan_unregister_globals`). Export the whole ABI. A static link
    // has no dynamic symbol table and ignores these.
    link.extend(abi_names().map(|name| format!("-Wl,--export-dynamic-symbol={name}")));
    Flags { compile, link }
}

/// The symbol whose definition selects sw-tags mode at start-up: the runtime holds a
/// weak reference to it (no constructor, no environment variable needed).
pub const SW_TAGS_DEFSYM: &str = "-Wl,--defsym=__kasan_sw_tags=__hwasan_load1_noabort";

/// The flags for `--mode=sw-tags` (clang only, outline checks). Pure: no I/O.
///
/// `-fsanitize=kernel-hwaddress` implies recover mode; on x86-64 checks are outline
/// calls already, `-hwasan-instrument-with-calls=1` says so explicitly (as Linux's
/// Makefile does). Stack tagging is off: its tags would sit in bits 57..62, which
/// fault without LAM. The mem-intrinsic prefix turns `memcpy`/`memset`/`memmove` into
/// checked `__hwasan_*` calls. Globals are never instrumented in kernel mode.
pub fn sw_tags_flags(include_dir: &str, lib_dir: &str) -> Flags {
    let mut compile: Vec<String> = vec!["-fsanitize=kernel-hwaddress".into()];
    for option in [
        "-hwasan-instrument-with-calls=1",
        "-hwasan-instrument-stack=0",
        "-hwasan-kernel-mem-intrinsic-prefix=1",
    ] {
        compile.push("-mllvm".into());
        compile.push(option.into());
    }
    compile.push("-fno-omit-frame-pointer".into());
    compile.push(format!("-I{include_dir}"));
    compile.push("-D__KASAN__=1".into());
    compile.push("-D__KASAN_SW_TAGS__=1".into());
    // The generic link flags (the archive, whole; the system libraries; the exported
    // ABI), with the mode's symbol defined.
    let mut link = flags(CompilerKind::Clang, Checks::Outline, include_dir, lib_dir).link;
    link.insert(3, SW_TAGS_DEFSYM.into());
    Flags { compile, link }
}

/// The compiler for `--mode=sw-tags`: `KASAN_CC` if it names a clang, else clang-19
/// (clang++-19 for C++ inputs) from `PATH`. gcc cannot build it: its
/// `-fsanitize=kernel-hwaddress` is arm64-only.
fn sw_tags_compiler(user_args: &[OsString]) -> Result<Compiler, String> {
    if std::env::var("KASAN_CC").is_ok_and(|v| !v.trim().is_empty()) {
        let compiler = detect_compiler(user_args)?;
        if compiler.kind != CompilerKind::Clang {
            return Err(format!(
                "--mode=sw-tags needs clang-19; KASAN_CC='{}' is not clang (gcc's \
                 -fsanitize=kernel-hwaddress is arm64-only)",
                compiler.argv.join(" ")
            ));
        }
        return Ok(compiler);
    }
    let name = sw_tags_default_compiler(user_args);
    if !in_path(name) {
        return Err(format!(
            "--mode=sw-tags needs {name}, which was not found in PATH"
        ));
    }
    Ok(Compiler {
        argv: vec![name.to_owned()],
        kind: CompilerKind::Clang,
    })
}

/// The sw-tags compiler when `KASAN_CC` names none.
pub fn sw_tags_default_compiler(user_args: &[OsString]) -> &'static str {
    if has_cxx_input(user_args) {
        "clang++-19"
    } else {
        "clang-19"
    }
}

/// Whether an executable file `name` is in one of `PATH`'s directories.
fn in_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(name))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Whether the compiler will run the linker with these arguments.
///
/// Not when it stops earlier (`-c`, `-S`, `-E`, `-M`, `-MM`, `-fsyntax-only`) or only
/// prints information. Not for `-shared` or `-r` either: the runtime belongs in the
/// program only; a shared library's `__asan_*` references bind to the program's copy at
/// load time, whereas a second copy inside the library would mean two heaps and two
/// owners of one shadow.
pub fn links(user_args: &[OsString]) -> bool {
    !user_args.iter().any(|a| {
        let Some(a) = a.to_str() else { return false };
        matches!(
            a,
            "-c" | "-S"
                | "-E"
                | "-M"
                | "-MM"
                | "-fsyntax-only"
                | "-shared"
                | "-r"
                | "--version"
                | "--help"
                | "-dumpversion"
                | "-dumpfullversion"
                | "-dumpmachine"
        ) || a.starts_with("-print-")
    })
}

/// Options taking their value as the next argument, so that value is not an input file.
/// An option missing here only makes [`has_source_input`] more conservative.
const OPTIONS_WITH_VALUE: &[&str] = &[
    "-o",
    "-x",
    "-I",
    "-L",
    "-l",
    "-D",
    "-U",
    "-MF",
    "-MT",
    "-MQ",
    "-include",
    "-imacros",
    "-isystem",
    "-idirafter",
    "-iquote",
    "-isysroot",
    "-iprefix",
    "--sysroot",
    "-target",
    "--target",
    "-T",
    "-u",
    "-e",
    "-z",
    "-Xlinker",
    "-Xassembler",
    "-Xpreprocessor",
    "-Xclang",
    "-mllvm",
    "--param",
];

/// Whether any input may need compiling, as opposed to only linking objects/archives.
///
/// Errs towards `true`: a file whose name does not end in an object or library suffix
/// counts as a source, `-` (stdin) and `-x` too. Used only to leave clang's `-mllvm`
/// options off a link-only command, where clang warns that they are unused (an error
/// under `-Werror`); a wrong `true` costs that warning, never an uninstrumented file.
pub fn has_source_input(user_args: &[OsString]) -> bool {
    let mut args = user_args.iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "-" || text == "-x" || text.starts_with("-x") {
            return true;
        }
        if text.starts_with('-') {
            if OPTIONS_WITH_VALUE.contains(&text.as_ref()) {
                args.next();
            }
            continue;
        }
        let name = Path::new(arg)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let link_input = [".o", ".a", ".so", ".lo", ".obj"]
            .iter()
            .any(|s| name.ends_with(s))
            || name.contains(".so.");
        if !link_input {
            return true;
        }
    }
    false
}

/// The whole command line to run: compiler, our compile flags, the user's arguments,
/// then the link flags when linking. Pure: no I/O.
///
/// Our compile flags go first so a later user flag overrides them (gcc and clang take
/// the last `--param`, `-f`/`-fno-` or `-mllvm` value). The runtime archive goes before
/// the user's files, so its `.preinit_array` entry runs before any of the program's own
/// (the linker lays those out in command-line order, and an instrumented preinit
/// function needs the shadow); the system libraries it needs go last. A dynamic link
/// takes the unwinder from `libgcc_s` rather than `libgcc_eh`, so the executable holds
/// no unwinder of its own and the runtime's `_Unwind_RaiseException` is the one
/// libstdc++ reaches ([`NATIVE_LIBS`]).
pub fn command_line(compiler: &Compiler, flags: &Flags, user_args: &[OsString]) -> Vec<OsString> {
    let linking = links(user_args);
    let mut argv: Vec<OsString> = compiler.argv.iter().map(OsString::from).collect();
    let skip_mllvm =
        compiler.kind == CompilerKind::Clang && linking && !has_source_input(user_args);
    let mut compile = flags.compile.iter();
    while let Some(flag) = compile.next() {
        if skip_mllvm && flag == "-mllvm" {
            compile.next();
            continue;
        }
        argv.push(flag.into());
    }
    let (archive, rest) = flags.link.split_at(ARCHIVE_FLAGS.min(flags.link.len()));
    if linking {
        argv.extend(archive.iter().map(OsString::from));
    }
    argv.extend(user_args.iter().cloned());
    if linking {
        let is = |name: &str| user_args.iter().any(|a| a == name);
        let static_link = is("-static") || is("-static-pie");
        let static_libgcc = static_link || is("-static-libgcc");
        for flag in rest {
            if flag == "-lgcc_eh" && !static_libgcc {
                argv.push("-lgcc_s".into());
            } else {
                argv.push(flag.into());
            }
        }
        // The runtime interposes pthread_create and calls glibc's through a weak
        // reference to __pthread_create_2_1, which a dynamic libc does not export; a
        // static link must pull it out of libc.a.
        if static_link {
            argv.push(STATIC_PTHREAD_CREATE.into());
            // libgcc_eh's unwinder replaces the runtime's weak _Unwind_RaiseException
            // in a static link: wrap it instead (kasan-rt's unwind.rs).
            argv.push(STATIC_WRAP_UNWIND.into());
        }
    }
    argv
}

/// How many of [`Flags::link`] name the runtime archive (`--whole-archive`, the
/// archive, `--no-whole-archive`): those go before the user's files.
const ARCHIVE_FLAGS: usize = 3;

/// What a `-static` link adds so throws clear the frames they leave: see `command_line`.
const STATIC_WRAP_UNWIND: &str = "-Wl,--wrap=_Unwind_RaiseException";

/// What a `-static` link adds: see `command_line`.
const STATIC_PTHREAD_CREATE: &str = "-Wl,-u,__pthread_create_2_1";

/// Quotes one word for a POSIX shell, leaving plain flags bare.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The `--print-flags` output: two POSIX shell assignments that
/// `eval "$(kasan cc --print-flags)"` accepts as they are,
///
/// ```text
/// KASAN_CFLAGS='-fsanitize=kernel-address ... -D__KASAN__=1'
/// KASAN_LDFLAGS='-Wl,--whole-archive /.../libkasan.a ...'
/// ```
///
/// Each value is the flags, each one shell-quoted where it needs it (a path with a
/// space), joined by spaces, and the whole value quoted once more for the assignment:
/// after the `eval`, `$KASAN_CFLAGS` holds a command-line fragment that a shell reads
/// again word by word, as `make CFLAGS="$KASAN_CFLAGS"` and `eval cc $KASAN_CFLAGS`
/// do.
pub fn print_flags_text(flags: &Flags) -> String {
    let join = |list: &[String]| {
        list.iter()
            .map(|f| shell_quote(f))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let assign = |list: &[String]| format!("'{}'", join(list).replace('\'', r"'\''"));
    format!(
        "KASAN_CFLAGS={}\nKASAN_LDFLAGS={}\n",
        assign(&flags.compile),
        assign(&flags.link)
    )
}

/// The runtime archive without debug information, made next to `archive` on first
/// use: `libkasan.a` carries the DWARF of the Rust standard library (its prebuilt code
/// comes with line tables, which LTO keeps), some 2 MB that a program would otherwise
/// grow by, for frames the reports never show. `objcopy --strip-debug` writes it, once
/// per build of the runtime (again when `libkasan.a` is newer), under a temporary name
/// renamed into place, so concurrent `kasan cc` runs never see half a file. Where that
/// cannot be done (a read-only directory, no `objcopy`), `archive` itself is used: the
/// program is bigger, and works the same.
fn shipped_archive(archive: &Path) -> PathBuf {
    let stripped = archive.with_file_name(STRIPPED_ARCHIVE);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    // The copy is remade when the archive or this program (which decides what the
    // copy holds) is newer.
    let this = std::env::current_exe().ok().and_then(|e| modified(&e));
    if let (Some(built), Some(made)) = (modified(archive), modified(&stripped)) {
        if made >= built && this.is_none_or(|t| made >= t) {
            return stripped;
        }
    }
    let tmp = archive.with_file_name(format!(".{STRIPPED_ARCHIVE}.{}", std::process::id()));
    let ok = Command::new("objcopy")
        .arg("--strip-debug")
        .args(weakened().map(|name| format!("--weaken-symbol={name}")))
        .arg(archive)
        .arg(&tmp)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && std::fs::rename(&tmp, &stripped).is_ok();
    let _ = std::fs::remove_file(&tmp);
    if ok {
        stripped
    } else {
        archive.to_path_buf()
    }
}

/// The checked functions a program may define itself, as ASan's interceptors allow
/// (compiler-rt defines them weak): every name of abi.txt's "Checked functions"
/// section but the `mem*` intrinsics, which the runtime's own code calls and which
/// must stay the checked ones. `libkasan-nodebug.a` holds them as weak definitions,
/// so a program's own `strlcpy` or a harness's `kstrdup` replaces ours instead of
/// failing the link with `multiple definition` (the runtime's own code keeps calling
/// its own through local references).
fn weakened() -> impl Iterator<Item = &'static str> {
    const ABI: &str = include_str!("../../kasan-rt/src/abi.txt");
    const KEPT: &[&str] = &[
        "memcpy",
        "memmove",
        "memset",
        "__asan_memcpy",
        "__asan_memmove",
        "__asan_memset",
    ];
    ABI.lines()
        .skip_while(|l| !l.starts_with("# Checked functions"))
        .skip(1)
        .take_while(|l| !l.starts_with('#'))
        .map(str::trim)
        .filter(|n| !n.is_empty() && !KEPT.contains(n))
}

/// The directory holding `kasan.h`: `KASAN_INCLUDE_DIR`, else this repository's
/// `include/`, fixed at build time (the binary is used from its build tree).
fn include_dir() -> PathBuf {
    match std::env::var_os("KASAN_INCLUDE_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../include"),
    }
}

/// The directory holding `libkasan.a`: `KASAN_LIB_DIR`, else the directory of the running
/// `kasan` (cargo puts both in `target/release`). `current_exe` resolves symlinks, so a
/// link to `kasan` elsewhere on `PATH` still finds its build tree.
fn lib_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("KASAN_LIB_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find the kasan executable's directory: {e}"))?;
    exe.parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("{} has no parent directory", exe.display()))
}

/// Removes `.` and `..` components without touching the file system, so the printed
/// `-I` reads `/work/main/include` rather than `.../crates/kasan-cli/../../include`.
fn tidy(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn utf8(path: &Path, what: &str) -> Result<String, String> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("the {what} path {} is not valid UTF-8", path.display()))
}

/// Runs `kasan cc`; returns the process exit code.
pub fn main(args: &[OsString]) -> i32 {
    match run(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("kasan cc: {message}");
            2
        }
    }
}

fn run(args: &[OsString]) -> Result<i32, String> {
    let (options, user_args) = parse_args(args)?;
    if options.help {
        print!("{USAGE}");
        return Ok(0);
    }
    if options.mode == Mode::SwTags && options.inline_given {
        return Err(
            "--inline is not available with --mode=sw-tags: without LAM the tagged \
             pointer cannot be dereferenced by inline checks on x86-64, so sw-tags checks \
             are outline calls (COMPILER-ABI.md)"
                .into(),
        );
    }
    let compiler = match options.mode {
        Mode::Generic => detect_compiler(user_args)?,
        Mode::SwTags => sw_tags_compiler(user_args)?,
    };
    // Absolute paths, so `--print-flags` output works from any directory.
    let absolute = |p: PathBuf| std::path::absolute(&p).map(|a| tidy(&a)).unwrap_or(p);
    let include = utf8(&absolute(include_dir()), "include directory")?;
    let lib = absolute(lib_dir()?);
    let lib_text = utf8(&lib, "library")?;
    let mut flags = match options.mode {
        Mode::Generic => flags(compiler.kind, options.checks, &include, &lib_text),
        Mode::SwTags => sw_tags_flags(&include, &lib_text),
    };

    if options.print_flags || links(user_args) {
        let archive = lib.join(RUNTIME_ARCHIVE);
        if !archive.is_file() {
            return Err(format!(
                "the runtime {} does not exist: run `cargo build --release` at the \
                 repository root first (or set KASAN_LIB_DIR to the directory holding it)",
                archive.display()
            ));
        }
        let shipped = utf8(&shipped_archive(&archive), "library")?;
        for flag in flags.link.iter_mut() {
            if Path::new(flag.as_str()) == archive {
                *flag = shipped.clone();
            }
        }
    }
    if options.print_flags {
        print!("{}", print_flags_text(&flags));
        return Ok(0);
    }

    let argv = command_line(&compiler, &flags, user_args);
    let status = Command::new(&argv[0])
        .args(&argv[1..])
        .status()
        .map_err(|e| {
            format!(
                "cannot run the compiler '{}': {e} (set KASAN_CC to choose another)",
                compiler.argv[0]
            )
        })?;
    Ok(child::exit_code(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn gcc() -> Compiler {
        Compiler {
            argv: vec!["gcc".into()],
            kind: CompilerKind::Gcc,
        }
    }

    fn clang() -> Compiler {
        Compiler {
            argv: vec!["clang-19".into()],
            kind: CompilerKind::Clang,
        }
    }

    fn strings(argv: &[OsString]) -> Vec<&str> {
        argv.iter().map(|a| a.to_str().unwrap()).collect()
    }

    #[test]
    fn our_options_stop_at_the_first_foreign_argument() {
        let args = os(&["-O2", "-g", "x.c", "-o", "x"]);
        let (opts, rest) = parse_args(&args).unwrap();
        assert_eq!(opts, CcOptions::default());
        assert_eq!(rest, &args[..]);

        let args = os(&["--outline", "--mode=generic", "-O2", "--inline", "x.c"]);
        let (opts, rest) = parse_args(&args).unwrap();
        assert_eq!(opts.checks, Checks::Outline);
        assert_eq!(opts.mode, Mode::Generic);
        // `--inline` after `-O2` belongs to the compiler.
        assert_eq!(strings(rest), ["-O2", "--inline", "x.c"]);
    }

    #[test]
    fn last_check_style_wins_and_mode_takes_both_spellings() {
        let args = os(&["--outline", "--inline", "--mode", "sw-tags", "x.c"]);
        let (opts, rest) = parse_args(&args).unwrap();
        assert_eq!(opts.checks, Checks::Inline);
        assert_eq!(opts.mode, Mode::SwTags);
        assert_eq!(strings(rest), ["x.c"]);
    }

    #[test]
    fn double_dash_ends_our_options() {
        let args = os(&["--print-flags", "--", "--help"]);
        let (opts, rest) = parse_args(&args).unwrap();
        assert!(opts.print_flags && !opts.help);
        assert_eq!(strings(rest), ["--help"]);
    }

    #[test]
    fn bad_modes_are_errors() {
        assert!(parse_args(&os(&["--mode=hw-tags", "x.c"]))
            .unwrap_err()
            .contains("hw-tags"));
        assert!(parse_args(&os(&["--mode"])).is_err());
    }

    #[test]
    fn gcc_inline_and_outline_flags() {
        let inline = flags(CompilerKind::Gcc, Checks::Inline, "/r/include", "/r/lib");
        assert_eq!(
            inline.compile,
            [
                "-fsanitize=kernel-address",
                "-fasan-shadow-offset=0x7fff8000",
                "--param=asan-globals=1",
                "--param=asan-stack=1",
                "--param=asan-instrument-allocas=1",
                "--param=asan-instrumentation-with-call-threshold=100000",
                "-fno-omit-frame-pointer",
                "-I/r/include",
                "-D__KASAN__=1",
            ]
        );
        let outline = flags(CompilerKind::Gcc, Checks::Outline, "/r/include", "/r/lib");
        assert!(outline
            .compile
            .contains(&"--param=asan-instrumentation-with-call-threshold=0".to_owned()));
        assert!(!outline.compile.iter().any(|f| f.contains("=100000")));
    }

    #[test]
    fn clang_inline_and_outline_flags() {
        let inline = flags(CompilerKind::Clang, Checks::Inline, "/r/include", "/r/lib");
        assert_eq!(
            inline.compile,
            [
                "-fsanitize=kernel-address",
                "-mllvm",
                "-asan-mapping-offset=0x7fff8000",
                "-mllvm",
                "-asan-instrumentation-with-call-threshold=100000",
                "-mllvm",
                "-asan-globals=1",
                "-mllvm",
                "-asan-stack=1",
                "-mllvm",
                "-asan-instrument-dynamic-allocas=1",
                "-mllvm",
                "-asan-kernel-mem-intrinsic-prefix=1",
                "-fno-omit-frame-pointer",
                "-I/r/include",
                "-D__KASAN__=1",
            ]
        );
        let outline = flags(CompilerKind::Clang, Checks::Outline, "/r/include", "/r/lib");
        assert_eq!(
            outline.compile[4],
            "-asan-instrumentation-with-call-threshold=0"
        );
        assert!(!outline.compile.iter().any(|f| f.starts_with("--param")));
    }

    #[test]
    fn sw_tags_flags_are_the_abi_results_set_plus_the_mode_symbol() {
        let f = sw_tags_flags("/inc", "/lib");
        assert_eq!(
            f.compile,
            [
                "-fsanitize=kernel-hwaddress",
                "-mllvm",
                "-hwasan-instrument-with-calls=1",
                "-mllvm",
                "-hwasan-instrument-stack=0",
                "-mllvm",
                "-hwasan-kernel-mem-intrinsic-prefix=1",
                "-fno-omit-frame-pointer",
                "-I/inc",
                "-D__KASAN__=1",
                "-D__KASAN_SW_TAGS__=1",
            ]
        );
        assert_eq!(
            &f.link[..4],
            [
                "-Wl,--whole-archive",
                "/lib/libkasan.a",
                "-Wl,--no-whole-archive",
                SW_TAGS_DEFSYM,
            ]
        );
        assert!(f
            .link
            .contains(&"-Wl,--export-dynamic-symbol=__hwasan_load1_noabort".to_owned()));
        // The generic link has no mode symbol.
        let g = flags(CompilerKind::Clang, Checks::Outline, "/inc", "/lib");
        assert!(!g.link.iter().any(|l| l.contains("__kasan_sw_tags")));
        assert_eq!(f.link.len(), g.link.len() + 1);
        assert!(
            print_flags_text(&f).contains(" -Wl,--defsym=__kasan_sw_tags=__hwasan_load1_noabort ")
        );
    }

    #[test]
    fn sw_tags_picks_clang_19_and_refuses_inline() {
        assert_eq!(sw_tags_default_compiler(&os(&["x.c"])), "clang-19");
        assert_eq!(sw_tags_default_compiler(&os(&["x.cc"])), "clang++-19");
        let (o, _) = parse_args(&os(&["--mode=sw-tags", "--inline", "x.c"])).unwrap();
        assert!(o.inline_given);
        let (o, _) = parse_args(&os(&["--inline", "--outline", "--mode=sw-tags", "x.c"])).unwrap();
        assert!(!o.inline_given);
        assert_eq!(main(&os(&["--mode=sw-tags", "--inline", "x.c"])), 2);
    }

    #[test]
    fn link_flags_whole_archive_then_native_libs() {
        for kind in [CompilerKind::Gcc, CompilerKind::Clang] {
            let f = flags(kind, Checks::Inline, "/i", "/r/target/release");
            assert_eq!(
                f.link[..10],
                [
                    "-Wl,--whole-archive",
                    "/r/target/release/libkasan.a",
                    "-Wl,--no-whole-archive",
                    "-lgcc_eh",
                    "-lutil",
                    "-lrt",
                    "-lpthread",
                    "-lm",
                    "-ldl",
                    "-lc",
                ]
            );
            // Then the whole ABI, exported for libraries loaded with dlopen.
            let exports: Vec<String> = abi_names()
                .map(|n| format!("-Wl,--export-dynamic-symbol={n}"))
                .collect();
            assert_eq!(f.link[10..], exports[..]);
            // PIE must work: we never force it off.
            assert!(!f.link.iter().chain(&f.compile).any(|x| x.contains("pie")));
        }
    }

    #[test]
    fn abi_list_parses_to_every_name() {
        let names: Vec<&str> = abi_names().collect();
        // Comments and blank lines dropped, no name twice.
        assert!(names
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')));
        let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len());
        for name in [
            "__asan_register_globals",
            "__asan_unregister_globals",
            "__asan_load1_noabort",
            "kmalloc",
            "mempool_destroy",
            "malloc",
            "_Znwm",
            "vfork",
        ] {
            assert!(unique.contains(name), "{name}");
        }
    }

    #[test]
    fn static_links_pull_in_glibcs_pthread_create() {
        let f = flags(CompilerKind::Gcc, Checks::Inline, "/i", "/l");
        let s = command_line(&gcc(), &f, &os(&["-static", "x.c", "-o", "x"]));
        assert_eq!(
            &s[s.len() - 2..],
            [STATIC_PTHREAD_CREATE, STATIC_WRAP_UNWIND]
        );
        let d = command_line(&gcc(), &f, &os(&["x.c", "-o", "x"]));
        assert!(!d.iter().any(|a| a == STATIC_PTHREAD_CREATE));
    }

    #[test]
    fn compile_only_commands_get_no_runtime() {
        let f = flags(CompilerKind::Gcc, Checks::Inline, "/i", "/l");
        for stop in ["-c", "-S", "-E", "-M", "-MM", "-fsyntax-only", "-shared"] {
            let user = os(&["-O2", stop, "x.c"]);
            let argv = command_line(&gcc(), &f, &user);
            assert!(!strings(&argv).contains(&"/l/libkasan.a"), "{stop}");
            // The instrumentation is still there.
            assert!(strings(&argv).contains(&"-fsanitize=kernel-address"));
        }
        // `-MD`/`-MMD` write dependencies as a side effect of a real build.
        let argv = command_line(&gcc(), &f, &os(&["-MMD", "x.c"]));
        assert!(strings(&argv).contains(&"/l/libkasan.a"));
    }

    #[test]
    fn full_command_line_order() {
        let f = flags(CompilerKind::Gcc, Checks::Outline, "/i", "/l");
        let user = os(&["-O2", "-g", "x.c", "-o", "x"]);
        let argv = command_line(&gcc(), &f, &user);
        let s = strings(&argv);
        assert_eq!(s[0], "gcc");
        assert_eq!(&s[1..1 + f.compile.len()], f.compile.as_slice());
        let archive_at = 1 + f.compile.len();
        assert_eq!(
            &s[archive_at..archive_at + 3],
            [
                "-Wl,--whole-archive",
                "/l/libkasan.a",
                "-Wl,--no-whole-archive"
            ]
        );
        let user_at = archive_at + 3;
        assert_eq!(&s[user_at..user_at + 5], ["-O2", "-g", "x.c", "-o", "x"]);
        // The rest of the link flags, with the shared unwinder in a dynamic link.
        let rest: Vec<String> = f.link[3..]
            .iter()
            .map(|l| {
                if l == "-lgcc_eh" {
                    "-lgcc_s".to_owned()
                } else {
                    l.clone()
                }
            })
            .collect();
        assert_eq!(&s[user_at + 5..], rest.as_slice());
        for stat in ["-static", "-static-pie", "-static-libgcc"] {
            let argv = command_line(&gcc(), &f, &os(&[stat, "x.c"]));
            let s = strings(&argv);
            assert!(s.contains(&"-lgcc_eh") && !s.contains(&"-lgcc_s"), "{stat}");
        }
    }

    #[test]
    fn archive_comes_before_a_language_override() {
        let f = flags(CompilerKind::Gcc, Checks::Inline, "/i", "/l");
        let argv = command_line(&gcc(), &f, &os(&["-x", "c", "prog", "-o", "p"]));
        let s = strings(&argv);
        let archive = s.iter().position(|a| *a == "/l/libkasan.a").unwrap();
        let x = s.iter().position(|a| *a == "-x").unwrap();
        assert!(archive < x, "{s:?}");
    }

    #[test]
    fn clang_link_only_drops_mllvm_options() {
        let f = flags(CompilerKind::Clang, Checks::Inline, "/i", "/l");
        let link_only = command_line(&clang(), &f, &os(&["a.o", "lib/b.a", "-o", "prog"]));
        let s = strings(&link_only);
        assert!(!s.iter().any(|a| *a == "-mllvm" || a.starts_with("-asan-")));
        assert!(s.contains(&"-fsanitize=kernel-address"));
        assert!(s.contains(&"/l/libkasan.a"));

        // With a source, or when unsure, they stay.
        for user in [
            &["x.c", "-o", "prog"][..],
            &["a.o", "weird_source_name"],
            &["-x", "c", "-"],
        ] {
            let argv = command_line(&clang(), &f, &os(user));
            assert!(strings(&argv).contains(&"-mllvm"), "{user:?}");
        }
        // gcc never warns about unused --param, so it always gets everything (its LTO
        // link step reads them too).
        let g = flags(CompilerKind::Gcc, Checks::Inline, "/i", "/l");
        let argv = command_line(&gcc(), &g, &os(&["a.o", "-o", "prog"]));
        assert!(strings(&argv).contains(&"--param=asan-stack=1"));
    }

    #[test]
    fn source_detection_skips_option_values() {
        assert!(!has_source_input(&os(&[
            "-o",
            "prog",
            "-L",
            "dir",
            "-l",
            "m",
            "a.o",
            "libx.so.1"
        ])));
        assert!(has_source_input(&os(&["-o", "prog", "main.c"])));
        assert!(has_source_input(&os(&["-xc", "a.o"])));
    }

    #[test]
    fn cxx_inputs_pick_gxx() {
        for user in [
            &["-O1", "x.cpp", "-o", "x"][..],
            &["a.c", "dir/b.cc"],
            &["-c", "x.C"],
            &["x.cxx"],
            &["x.c++"],
            &["-x", "c++", "prog"],
            &["-xc++", "-"],
        ] {
            assert_eq!(default_compiler(&os(user)), "g++", "{user:?}");
        }
        for user in [
            &["-O1", "x.c", "-o", "x"][..],
            &["a.o", "-o", "prog.cpp.bin"],
            // An option's value is no input file.
            &["-o", "out.cpp", "x.c"],
            &["-include", "pre.cc", "x.c"],
            &["-x", "c", "prog"],
            &["x.o", "-lstdc++"],
        ] {
            assert_eq!(default_compiler(&os(user)), "gcc", "{user:?}");
        }
    }

    #[test]
    fn compiler_dialect_from_name() {
        let k = |words: &[&str]| {
            kind_from_name(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(k(&["clang-19"]), Some(CompilerKind::Clang));
        assert_eq!(k(&["/usr/bin/clang++-19"]), Some(CompilerKind::Clang));
        assert_eq!(k(&["ccache", "clang-19"]), Some(CompilerKind::Clang));
        assert_eq!(k(&["gcc"]), Some(CompilerKind::Gcc));
        assert_eq!(k(&["x86_64-linux-gnu-g++-12"]), Some(CompilerKind::Gcc));
        assert_eq!(k(&["cc"]), None);
    }

    #[test]
    fn print_flags_lines_are_shell_assignments() {
        let f = flags(CompilerKind::Gcc, Checks::Inline, "/my dir/include", "/l");
        let text = print_flags_text(&f);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with(
            "KASAN_CFLAGS='-fsanitize=kernel-address -fasan-shadow-offset=0x7fff8000 --param=asan-globals=1"
        ));
        // The path with a space is quoted inside the value, whose own quotes close
        // and reopen around it.
        assert!(lines[0].ends_with(r" '\''-I/my dir/include'\'' -D__KASAN__=1'"));
        assert!(lines[1].starts_with(
            "KASAN_LDFLAGS='-Wl,--whole-archive /l/libkasan.a -Wl,--no-whole-archive \
             -lgcc_eh -lutil -lrt -lpthread -lm -ldl -lc \
             -Wl,--export-dynamic-symbol=__asan_after_dynamic_init "
        ));
        assert!(lines[1].ends_with(" -Wl,--export-dynamic-symbol=_Unwind_RaiseException'"));
        assert_eq!(
            lines[1].matches(" -Wl,--export-dynamic-symbol=").count(),
            abi_names().count()
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("-Wl,--whole-archive"), "-Wl,--whole-archive");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn weakened_names_are_the_checked_functions_but_the_intrinsics() {
        let names: Vec<_> = weakened().collect();
        for name in [
            "strlcpy",
            "kstrdup",
            "strcpy",
            "strtok",
            "printf",
            "copy_to_user",
        ] {
            assert!(names.contains(&name), "{name} is not weakened");
        }
        for name in [
            "memcpy",
            "memset",
            "memmove",
            "__asan_memcpy",
            "malloc",
            "_Znwm",
        ] {
            assert!(!names.contains(&name), "{name} is weakened");
        }
        assert!(names.len() > 70, "only {} names", names.len());
    }

    #[test]
    fn tidy_removes_dot_dot() {
        assert_eq!(
            tidy(Path::new("/w/main/crates/kasan-cli/../../include")),
            Path::new("/w/main/include")
        );
        assert_eq!(tidy(Path::new("../x/./y")), Path::new("../x/y"));
    }
}
