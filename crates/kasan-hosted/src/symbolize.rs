//! Symbolization of code and data addresses in the running process, for
//! the `function+offset/size` (and optional `file:line`) parts of a report.
//!
//! The loaded object that holds an address is found with `dl_iterate_phdr`;
//! its ELF file (`/proc/self/exe` for the main program, which keeps working
//! when the executable was deleted or replaced on disk) is mapped read-only
//! (or, when the kernel refuses the mapping, read into the runtime's memory),
//! its symbol table is turned into a sorted vector, and its DWARF line
//! information is wrapped in an `addr2line::Context`. All of that happens
//! once per object, on its first lookup, and is kept for the life of the
//! process in a mutex-protected cache: later lookups are a binary search
//! plus an `addr2line` query.
//!
//! When an object lacks `.symtab` or DWARF (a stripped system library), a
//! separate debug file is looked for the way gdb does it: by build ID under
//! `/usr/lib/debug/.build-id/`, then by `.gnu_debuglink`; without one, the
//! dynamic symbol table still names exported functions.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ffi::{c_int, c_void, OsStr};
use std::fs::File;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use kasan_core::shadow::encoding;

use crate::memory::SHADOW;
use addr2line::gimli;
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind, SymbolSection};

/// One resolved code or data address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol<'a> {
    /// Symbol name; Rust names are demangled (without the hash suffix),
    /// other names are given as they appear in the symbol table.
    pub name: &'a str,
    /// Address minus the symbol's start (for a return address, the
    /// return address itself, not the call instruction, minus the start).
    pub offset: usize,
    /// `st_size` of the symbol; 0 if the symbol table does not give one.
    pub size: usize,
    /// Source file from the DWARF line table, if the object has debug info.
    pub file: Option<&'a str>,
    /// Source line from the DWARF line table.
    pub line: Option<u32>,
    /// `None` for the main executable, the shared object's file name
    /// (such as `libc.so.6`) otherwise.
    pub module: Option<&'a str>,
}

/// Resolve `addr` in the running process and call `f` with the result (not
/// called if nothing is found).
///
/// If `is_return` is true, `addr` is a return address: `addr - 1` is looked
/// up (so that a call at the very end of a function resolves to that
/// function, and the line is the call's) but `offset` is reported relative to
/// `addr` itself, as Linux's `%pSb` does.
///
/// The first lookup in an object parses its symbol table and DWARF unit
/// index: about 1 ms for a small Rust binary and 65 ms for glibc with its
/// separate debug file in an optimized build (several times that unoptimized);
/// later lookups take a few microseconds. `f` runs with the cache lock held,
/// so it must not call `symbolize` itself.
pub fn symbolize(addr: usize, is_return: bool, f: &mut dyn FnMut(&Symbol<'_>)) {
    with_object(addr, is_return, &mut |object, svma| {
        let bias = (addr as u64)
            .wrapping_sub(u64::from(is_return))
            .wrapping_sub(svma);
        describe(object, svma, bias, is_return, f)
    });
}

/// A variable's size as Linux's `%pS` gives it: kallsyms has no sizes and counts a
/// symbol up to the next one, which for an instrumented global lies past the
/// redzone the compiler put after it. clang's symbol already covers that redzone;
/// gcc's covers the variable alone, so it is extended over the global redzone
/// that follows it in the shadow (`0xF9`, written by `__asan_register_globals`), up
/// to the next symbol at most.
fn variable_size(object: &ObjectInfo, index: usize, bias: u64) -> u64 {
    let Some(sym) = object.symbols.get(index) else {
        return 0;
    };
    if !sym.data || sym.size == 0 || !crate::memory::shadow_mapped() {
        return sym.size;
    }
    let next = object
        .symbols
        .get(index + 1)
        .map_or(sym.limit, |s| s.addr.min(sym.limit));
    let start = sym.addr.saturating_add(sym.size).next_multiple_of(8);
    let mut end = start;
    while end < next
        && SHADOW.byte(end.wrapping_add(bias) as usize) == Some(encoding::GLOBAL_REDZONE)
    {
        end += 8;
    }
    if end > start {
        end - sym.addr
    } else {
        sym.size
    }
}

/// Finds the object holding `addr` (at `addr - 1` for a return address) and runs
/// `f` on its cached symbols with the address as the file sees it, under the cache
/// lock.
fn with_object(addr: usize, is_return: bool, f: &mut dyn FnMut(&mut ObjectInfo, u64)) {
    let probe = if is_return {
        match addr.checked_sub(1) {
            Some(probe) => probe,
            None => return,
        }
    } else {
        addr
    };
    // The loader lock is taken and released here, before our own lock, so the
    // two are never nested.
    let Some(loaded) = find_loaded_object(probe) else {
        return;
    };
    // A panic while the lock was held (only possible in `f`) leaves the cache
    // itself consistent: entries are only ever appended whole.
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(object) = cache.object(&loaded) else {
        return;
    };
    f(object, (probe as u64).wrapping_sub(loaded.bias as u64));
}

fn describe(
    object: &mut ObjectInfo,
    svma: u64,
    bias: u64,
    is_return: bool,
    f: &mut dyn FnMut(&Symbol<'_>),
) {
    let Some(index) = object.lookup(svma) else {
        return;
    };
    object.demangle(index);
    let object = &*object;
    let Some(sym) = object.symbols.get(index) else {
        return;
    };
    let offset = svma
        .wrapping_sub(sym.addr)
        .wrapping_add(u64::from(is_return));
    let (file, line) = object.location(svma);
    let size = variable_size(object, index, bias);
    f(&Symbol {
        name: object.name(index),
        offset: usize::try_from(offset).unwrap_or(usize::MAX),
        size: usize::try_from(size).unwrap_or(0),
        file,
        line,
        module: object.module.as_deref(),
    });
}

/// Calls `f` with each function inlined at `addr`, innermost first (`offset` and
/// `size` 0): the line is where that function's code is (for the innermost) or
/// where it made the next inner call. The function the symbol table
/// names (the outermost) is not included: [`symbolize`] gives it. Nothing is called
/// without DWARF or without inlining. `is_return` as for [`symbolize`].
pub fn inlined(addr: usize, is_return: bool, f: &mut dyn FnMut(&Symbol<'_>)) {
    with_object(addr, is_return, &mut |object, svma| {
        inlined_in(object, svma, f)
    });
}

fn inlined_in(object: &mut ObjectInfo, svma: u64, f: &mut dyn FnMut(&Symbol<'_>)) {
    let Some(ctx) = &object.dwarf else {
        return;
    };
    let Ok(mut frames) = ctx.find_frames(svma).skip_all_loads() else {
        return;
    };
    let dir = comp_dir(ctx, svma);
    // Collect first: the last frame (the outermost) is left out.
    let mut found: Vec<(String, Option<String>, Option<u32>)> = Vec::new();
    while let Ok(Some(frame)) = frames.next() {
        let name = frame
            .function
            .as_ref()
            .and_then(|n| n.demangle().ok().map(|d| d.into_owned()))
            // DWARF names an inlined C++ function by its linkage name: demangle it as
            // the symbol table's names are.
            .map(|d| demangle_cpp(&d).unwrap_or(d))
            .unwrap_or_else(|| "??".to_owned());
        let (file, line) = frame.location.map_or((None, None), |l| {
            (l.file.map(|f| relative(f, dir).to_owned()), l.line)
        });
        found.push((name, file, line));
    }
    found.pop();
    for (name, file, line) in &found {
        f(&Symbol {
            name,
            offset: 0,
            size: 0,
            file: file.as_deref(),
            line: *line,
            module: object.module.as_deref(),
        });
    }
}

static CACHE: Mutex<Cache> = Mutex::new(Cache {
    entries: Vec::new(),
});

/// Bound on how many lower symbols are checked for one that encloses the
/// address when the nearest one does not (a label inside a function, or a
/// small symbol nested in a bigger one). Nesting is rare and shallow, and the
/// bound keeps a lookup O(log n).
const MAX_ENCLOSING_SEARCH: usize = 16;

/// Room for a build ID; GNU ld writes 20 bytes (SHA-1), some linkers 16 or 32.
const MAX_BUILD_ID: usize = 64;

/// The loaded object holding an address, as `dl_iterate_phdr` reports it.
/// Copied out of the callback because the loader's data may go away (dlclose)
/// once the loader lock is dropped.
struct LoadedObject {
    /// True for the first object reported, which is the main program.
    is_main: bool,
    name: Vec<u8>,
    bias: usize,
    build_id: Option<([u8; MAX_BUILD_ID], usize)>,
}

impl LoadedObject {
    fn build_id(&self) -> Option<&[u8]> {
        self.build_id.as_ref().and_then(|(id, len)| id.get(..*len))
    }
}

struct Cache {
    entries: Vec<CacheEntry>,
}

struct CacheEntry {
    is_main: bool,
    name: Vec<u8>,
    bias: usize,
    build_id: Option<Vec<u8>>,
    /// `None` when the object could not be read; remembered so that a
    /// missing file is not looked for again on every frame.
    object: Option<Box<ObjectInfo>>,
}

impl Cache {
    fn object(&mut self, loaded: &LoadedObject) -> Option<&mut ObjectInfo> {
        // An object unloaded and another loaded at the same place with the same
        // name but a different build ID must not reuse the old entry.
        let position = self.entries.iter().position(|entry| {
            entry.is_main == loaded.is_main
                && entry.bias == loaded.bias
                && entry.name == loaded.name
                && entry.build_id.as_deref() == loaded.build_id()
        });
        let position = match position {
            Some(position) => position,
            None => {
                self.entries.push(CacheEntry {
                    is_main: loaded.is_main,
                    name: loaded.name.clone(),
                    bias: loaded.bias,
                    build_id: loaded.build_id().map(<[u8]>::to_vec),
                    object: ObjectInfo::load(loaded).map(Box::new),
                });
                self.entries.len() - 1
            }
        };
        self.entries.get_mut(position)?.object.as_deref_mut()
    }
}

/// One symbol-table entry, addresses as in the ELF file (before load bias).
struct Sym {
    addr: u64,
    size: u64,
    /// End of the symbol's section: an address past a symbol's size is still
    /// attributed to it (padding, unsized labels), but never across sections,
    /// so `.rodata` without symbols is not blamed on the last function.
    limit: u64,
    name: &'static str,
    /// A variable (`STT_OBJECT`): sized with its redzone (see [`variable_size`]).
    data: bool,
}

impl Sym {
    fn contains(&self, svma: u64) -> bool {
        self.size != 0 && svma.wrapping_sub(self.addr) < self.size
    }
}

type Reader = gimli::EndianSlice<'static, gimli::RunTimeEndian>;

/// Everything kept about one loaded object. The file data it points into is
/// mapped once and never unmapped, hence the `'static` borrows.
struct ObjectInfo {
    module: Option<Box<str>>,
    /// Sorted by address, one entry per address.
    symbols: Vec<Sym>,
    /// Demangled names by symbol index, filled on demand because demangling
    /// every symbol up front would cost more than the whole parse.
    demangled: BTreeMap<usize, Box<str>>,
    dwarf: Option<addr2line::Context<Reader>>,
}

/// `file` relative to `dir` (the compilation directory, `DW_AT_comp_dir`, of the
/// unit holding the address) when it lies under it, else as it is: Linux's
/// reports print paths relative to the kernel tree (`mm/slub.c:4757`).
fn relative<'f>(file: &'f str, dir: Option<&str>) -> &'f str {
    let Some(dir) = dir
        .map(|d| d.trim_end_matches('/'))
        .filter(|d| !d.is_empty())
    else {
        return file;
    };
    match file.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) {
        Some(rest) if !rest.is_empty() => rest,
        _ => file,
    }
}

/// The compilation directory of the unit holding `svma`.
fn comp_dir(ctx: &addr2line::Context<Reader>, svma: u64) -> Option<&'static str> {
    let unit = ctx.find_dwarf_and_unit(svma).skip_all_loads()?;
    let dir: &'static [u8] = unit.comp_dir?.slice();
    core::str::from_utf8(dir).ok()
}

impl ObjectInfo {
    fn load(loaded: &LoadedObject) -> Option<ObjectInfo> {
        let path: PathBuf = if loaded.is_main {
            // Unlike the name in argv[0] or readlink, this names the inode that
            // was executed, even when the file was deleted or replaced since.
            PathBuf::from("/proc/self/exe")
        } else if loaded.name.contains(&b'/') {
            PathBuf::from(OsStr::from_bytes(&loaded.name))
        } else {
            // linux-vdso.so.1 and other names that are not files.
            return None;
        };
        let module = if loaded.is_main {
            None
        } else {
            let base = loaded
                .name
                .rsplit(|&b| b == b'/')
                .next()
                .unwrap_or(&loaded.name);
            Some(String::from_utf8_lossy(base).into_owned().into_boxed_str())
        };

        let data = Mapping::open(&path)?.into_static_if(|data| {
            object::File::parse(data).is_ok_and(|file| {
                // A library replaced on disk after it was loaded would give
                // wrong symbols; refuse it rather than mislead.
                match (loaded.build_id(), file.build_id()) {
                    (Some(mem), Ok(Some(disk))) => mem == disk,
                    (Some(_), _) => false,
                    (None, _) => true,
                }
            })
        })?;
        let file = object::File::parse(data).ok()?;

        let has_symtab = file.symbols().next().is_some();
        let has_dwarf = file.section_by_name(".debug_info").is_some();
        let debug_file = if has_symtab && has_dwarf {
            None
        } else {
            find_debug_file(&path, &file)
        };

        let mut ranked = Vec::new();
        if has_symtab {
            collect_symbols(&file, file.symbols(), &mut ranked);
        } else if let Some(debug) = debug_file.as_ref().filter(|d| d.symbols().next().is_some()) {
            collect_symbols(debug, debug.symbols(), &mut ranked);
        } else {
            collect_symbols(&file, file.dynamic_symbols(), &mut ranked);
        }
        let symbols = sort_symbols(ranked);

        let dwarf = if has_dwarf {
            load_dwarf(&file)
        } else {
            debug_file.as_ref().and_then(load_dwarf)
        };

        Some(ObjectInfo {
            module,
            symbols,
            demangled: BTreeMap::new(),
            dwarf,
        })
    }

    fn lookup(&self, svma: u64) -> Option<usize> {
        let nearest = self
            .symbols
            .partition_point(|sym| sym.addr <= svma)
            .checked_sub(1)?;
        let first = nearest.saturating_sub(MAX_ENCLOSING_SEARCH);
        if let Some(enclosing) = (first..=nearest)
            .rev()
            .find(|&i| self.symbols.get(i).is_some_and(|sym| sym.contains(svma)))
        {
            return Some(enclosing);
        }
        let sym = self.symbols.get(nearest)?;
        (svma < sym.limit).then_some(nearest)
    }

    fn demangle(&mut self, index: usize) {
        if self.demangled.contains_key(&index) {
            return;
        }
        let Some(sym) = self.symbols.get(index) else {
            return;
        };
        if let Ok(demangled) = rustc_demangle::try_demangle(sym.name) {
            // `{:#}` drops the `::h0123456789abcdef` hash of legacy mangling.
            let name = format!("{demangled:#}").into_boxed_str();
            self.demangled.insert(index, name);
        } else if let Some(name) = demangle_cpp(sym.name) {
            self.demangled.insert(index, name.into_boxed_str());
        }
    }

    fn name(&self, index: usize) -> &str {
        let name = match self.demangled.get(&index) {
            Some(name) => name,
            None => self.symbols.get(index).map_or("", |sym| sym.name),
        };
        // A versioned symbol (`__libc_start_main@@GLIBC_2.34`) is named without its
        // version, as a report names functions.
        name.split('@').next().unwrap_or(name)
    }

    fn location(&self, svma: u64) -> (Option<&str>, Option<u32>) {
        let Some(ctx) = &self.dwarf else {
            return (None, None);
        };
        // The reported name is the symbol-table (outermost) function, so the
        // line reported with it is the outermost frame's: for an address in
        // inlined code that is the line in the named function that the inlined
        // call came from, not a line in some other function's source.
        let mut outermost = None;
        if let Ok(mut frames) = ctx.find_frames(svma).skip_all_loads() {
            while let Ok(Some(frame)) = frames.next() {
                if frame.location.is_some() {
                    outermost = frame.location;
                }
            }
        }
        let location = match outermost {
            Some(location) => Some(location),
            None => ctx.find_location(svma).ok().flatten(),
        };
        match location {
            Some(location) => (
                location.file.map(|f| relative(f, comp_dir(ctx, svma))),
                location.line,
            ),
            None => (None, None),
        }
    }
}

/// A C++ name without its parameter list (`ns::Class::method`), as a frame shows
/// it; `None` if it is not a C++ name, or if the result would contain a space (as
/// `operator new` does), which would break `func+0xoff/0xsize` parsing.
fn demangle_cpp(name: &str) -> Option<String> {
    if !name.starts_with("_Z") {
        return None;
    }
    let symbol = cpp_demangle::Symbol::new(name).ok()?;
    let options = cpp_demangle::DemangleOptions::new()
        .no_params()
        .no_return_type();
    let text = symbol.demangle_with_options(&options).ok()?;
    (!text.contains(' ')).then_some(text)
}

fn collect_symbols<'file>(
    file: &'file object::File<'static>,
    iter: object::SymbolIterator<'static, 'file>,
    out: &mut Vec<(Sym, u8)>,
) {
    for symbol in iter {
        let kind = symbol.kind();
        let typed = match kind {
            SymbolKind::Text | SymbolKind::Data => true,
            // Hand-written assembly often leaves functions untyped.
            SymbolKind::Unknown => false,
            _ => continue,
        };
        let SymbolSection::Section(section_index) = symbol.section() else {
            continue;
        };
        let Ok(name) = symbol.name() else {
            continue;
        };
        // `$x`/`$d` are ARM and RISC-V mapping symbols, not names.
        if name.is_empty() || name.starts_with('$') {
            continue;
        }
        let limit = file
            .section_by_index(section_index)
            .ok()
            .and_then(|section| section.address().checked_add(section.size()))
            .unwrap_or(u64::MAX);
        // Among aliases at one address (getpid/__getpid/__GI___getpid), the
        // one a user knows is usually the least decorated and exported one.
        let underscores = name.bytes().take_while(|&b| b == b'_').count().min(3) as u8;
        let rank = (u8::from(symbol.size() != 0) << 7)
            | (u8::from(typed) << 6)
            | ((3 - underscores) << 4)
            | u8::from(!symbol.is_local());
        out.push((
            Sym {
                addr: symbol.address(),
                size: symbol.size(),
                limit,
                name,
                data: kind == SymbolKind::Data,
            },
            rank,
        ));
    }
}

/// Sorts by address and keeps the best-ranked symbol of each address; a
/// stable sort, so equal ranks keep symbol-table order and the result does not
/// vary from run to run.
fn sort_symbols(mut ranked: Vec<(Sym, u8)>) -> Vec<Sym> {
    ranked.sort_by(|(a, rank_a), (b, rank_b)| a.addr.cmp(&b.addr).then(rank_b.cmp(rank_a)));
    ranked.dedup_by_key(|(sym, _)| sym.addr);
    ranked.into_iter().map(|(sym, _)| sym).collect()
}

/// A read-only private mapping of a whole file, or, when the kernel refuses the
/// mapping (a program that limited its address space with `RLIMIT_AS`), a copy of
/// it read into the runtime's own memory, whose address space was reserved at
/// start-up.
struct Mapping {
    ptr: *mut c_void,
    len: usize,
    /// Whether `ptr` is a leaked `Vec<u8>` of capacity `len` (the copy).
    copied: bool,
}

impl Mapping {
    fn open(path: &Path) -> Option<Mapping> {
        let file = File::open(path).ok()?;
        let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
        if len == 0 {
            return None;
        }
        // SAFETY: a fresh private read-only mapping of a file we hold open
        // touches no existing memory; failure is reported as MAP_FAILED.
        let ptr = unsafe {
            crate::sys::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr != libc::MAP_FAILED {
            // The mapping keeps the file's inode alive; the descriptor can go.
            return Some(Mapping {
                ptr,
                len,
                copied: false,
            });
        }
        Self::copy(file, len)
    }

    /// Reads the whole file into memory of the runtime's own (no abort when that
    /// fails too: the object just gets no names).
    fn copy(mut file: File, len: usize) -> Option<Mapping> {
        use std::io::Read;
        let mut data = Vec::new();
        data.try_reserve_exact(len).ok()?;
        data.resize(len, 0);
        file.read_exact(&mut data).ok()?;
        let mut data = std::mem::ManuallyDrop::new(data.into_boxed_slice());
        Some(Mapping {
            ptr: data.as_mut_ptr().cast(),
            len,
            copied: true,
        })
    }

    fn data(&self) -> &[u8] {
        // SAFETY: `ptr` is a live PROT_READ mapping of `len` bytes, unmapped
        // only in `drop`, which the borrow of `self` rules out.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }

    /// Keep the mapping for the rest of the process if `accept` approves of
    /// its contents, and unmap it otherwise.
    fn into_static_if(self, accept: impl FnOnce(&[u8]) -> bool) -> Option<&'static [u8]> {
        if !accept(self.data()) {
            return None;
        }
        let mapping = std::mem::ManuallyDrop::new(self);
        // SAFETY: `drop` is suppressed, so the mapping is never unmapped and
        // the bytes stay readable for the rest of the process. They change only
        // if someone rewrites the file in place, which the kernel refuses for a
        // running executable and package managers avoid for libraries (they
        // replace by rename, leaving this inode alone); the same contract as
        // any file-backed slice such as memmap2's.
        Some(unsafe { std::slice::from_raw_parts(mapping.ptr.cast::<u8>(), mapping.len) })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        if self.copied {
            // SAFETY: `ptr`/`len` are the boxed slice `copy` leaked, given back
            // once; no borrow of the bytes outlives `self` (see `data`).
            drop(unsafe {
                Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                    self.ptr.cast::<u8>(),
                    self.len,
                ))
            });
            return;
        }
        // SAFETY: `ptr`/`len` are exactly what mmap returned, and no borrow of
        // the bytes outlives `self` (see `data`).
        unsafe {
            crate::sys::munmap(self.ptr, self.len);
        }
    }
}

/// `realpath` into a buffer of the runtime's: `std::fs::canonicalize` calls glibc's
/// `realpath(path, NULL)`, which allocates its result with the program's `malloc`,
/// from the heap the report being printed describes (a freed page reported a moment
/// before could become a new slab, and the report's own memory dump show it).
fn real_path(path: &Path) -> Option<PathBuf> {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: a NUL-terminated path and a buffer of PATH_MAX bytes and more, as
    // realpath requires of a caller-supplied one; glibc then allocates nothing for
    // paths under 1 KiB (its scratch buffers are on the stack).
    let r = unsafe { libc::realpath(c.as_ptr(), buf.as_mut_ptr().cast()) };
    if r.is_null() {
        return None;
    }
    buf.truncate(buf.iter().position(|&b| b == 0)?);
    Some(PathBuf::from(std::ffi::OsString::from_vec(buf)))
}

/// Looks for the separate debug file of a stripped object, as gdb does.
fn find_debug_file(path: &Path, file: &object::File<'static>) -> Option<object::File<'static>> {
    let build_id = file.build_id().ok().flatten();
    let mut candidates = Vec::new();
    if let Some(id) = build_id.filter(|id| id.len() >= 2) {
        let mut name = String::from("/usr/lib/debug/.build-id/");
        for (i, byte) in id.iter().enumerate() {
            name.push_str(&format!("{byte:02x}"));
            if i == 0 {
                name.push('/');
            }
        }
        name.push_str(".debug");
        candidates.push(PathBuf::from(name));
    }
    if let Ok(Some((link, _crc))) = file.gnu_debuglink() {
        let link = Path::new(OsStr::from_bytes(link));
        // The debug link is relative to the real directory of the object,
        // which for /proc/self/exe is only known through the link.
        let real = real_path(path);
        if let Some(dir) = real.as_deref().and_then(Path::parent) {
            candidates.push(dir.join(link));
            candidates.push(dir.join(".debug").join(link));
            if let Ok(rel) = dir.strip_prefix("/") {
                candidates.push(Path::new("/usr/lib/debug").join(rel).join(link));
            }
        }
    }
    candidates.into_iter().find_map(|candidate| {
        let data = Mapping::open(&candidate)?.into_static_if(|data| {
            object::File::parse(data).is_ok_and(|debug| match build_id {
                Some(id) => debug.build_id().ok().flatten() == Some(id),
                None => true,
            })
        })?;
        object::File::parse(data).ok()
    })
}

fn load_dwarf(file: &object::File<'static>) -> Option<addr2line::Context<Reader>> {
    let endian = if file.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let load = |id: gimli::SectionId| -> Result<Reader, gimli::Error> {
        let data: &'static [u8] = match file
            .section_by_name(id.name())
            .map(|section| section.uncompressed_data())
        {
            Some(Ok(Cow::Borrowed(data))) => data,
            // Decompressed sections must live as long as the context, which is
            // forever.
            Some(Ok(Cow::Owned(data))) => Box::leak(data.into_boxed_slice()),
            Some(Err(_)) | None => &[],
        };
        Ok(gimli::EndianSlice::new(data, endian))
    };
    let dwarf = gimli::Dwarf::load(load).ok()?;
    addr2line::Context::from_dwarf(dwarf).ok()
}

#[cfg(target_pointer_width = "64")]
type NativeElf = object::elf::FileHeader64<object::Endianness>;
#[cfg(target_pointer_width = "32")]
type NativeElf = object::elf::FileHeader32<object::Endianness>;

struct Search {
    probe: usize,
    seen: usize,
    found: Option<LoadedObject>,
}

fn find_loaded_object(probe: usize) -> Option<LoadedObject> {
    let mut search = Search {
        probe,
        seen: 0,
        found: None,
    };
    // SAFETY: the callback matches the signature dl_iterate_phdr expects, and
    // `data` points to `search`, which outlives the call and is reached only
    // through that pointer while the call runs.
    unsafe {
        libc::dl_iterate_phdr(
            Some(phdr_callback),
            std::ptr::addr_of_mut!(search).cast::<c_void>(),
        );
    }
    search.found
}

unsafe extern "C" fn phdr_callback(
    info: *mut libc::dl_phdr_info,
    _size: usize,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `data` is the `&mut Search` passed by `find_loaded_object`, and
    // `info` is valid for the duration of the callback per dl_iterate_phdr.
    let (search, info) = unsafe { (&mut *data.cast::<Search>(), &*info) };
    let is_main = search.seen == 0;
    search.seen += 1;
    if info.dlpi_phdr.is_null() {
        return 0;
    }
    // SAFETY: the loader guarantees `dlpi_phnum` headers at `dlpi_phdr`.
    let phdrs = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) };
    let bias = info.dlpi_addr as usize;
    let contains = phdrs.iter().any(|phdr| {
        phdr.p_type == libc::PT_LOAD
            && search
                .probe
                .wrapping_sub(bias.wrapping_add(phdr.p_vaddr as usize))
                < phdr.p_memsz as usize
    });
    if !contains {
        return 0;
    }
    let name = if info.dlpi_name.is_null() {
        Vec::new()
    } else {
        // SAFETY: a non-null `dlpi_name` is a NUL-terminated string owned by
        // the loader, valid during the callback.
        unsafe { std::ffi::CStr::from_ptr(info.dlpi_name) }
            .to_bytes()
            .to_vec()
    };
    let mut build_id = None;
    for phdr in phdrs.iter().filter(|phdr| phdr.p_type == libc::PT_NOTE) {
        // SAFETY: PT_NOTE lies within a PT_LOAD segment of a loaded object, so
        // its `p_memsz` bytes at the biased address are mapped and readable
        // while the object is loaded, which the loader lock guarantees here.
        let notes = unsafe {
            std::slice::from_raw_parts(
                bias.wrapping_add(phdr.p_vaddr as usize) as *const u8,
                phdr.p_memsz as usize,
            )
        };
        let Ok(mut iter) = object::read::elf::NoteIterator::<NativeElf>::new(
            object::Endianness::default(),
            phdr.p_align,
            notes,
        ) else {
            continue;
        };
        while let Ok(Some(note)) = iter.next() {
            let endian = object::Endianness::default();
            if note.name() == object::elf::ELF_NOTE_GNU
                && note.n_type(endian) == object::elf::NT_GNU_BUILD_ID
            {
                let desc = note.desc();
                let mut id = [0; MAX_BUILD_ID];
                if let Some(dst) = id.get_mut(..desc.len()) {
                    dst.copy_from_slice(desc);
                    build_id = Some((id, desc.len()));
                }
            }
        }
    }
    search.found = Some(LoadedObject {
        is_main,
        name,
        bias,
        build_id,
    });
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An owned copy of a [`Symbol`], so results can leave the callback.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Owned {
        name: String,
        offset: usize,
        size: usize,
        file: Option<String>,
        line: Option<u32>,
        module: Option<String>,
    }

    fn resolve(addr: usize, is_return: bool) -> Option<Owned> {
        let mut out = None;
        symbolize(addr, is_return, &mut |sym| {
            assert!(out.is_none(), "callback called twice");
            out = Some(Owned {
                name: sym.name.to_owned(),
                offset: sym.offset,
                size: sym.size,
                file: sym.file.map(str::to_owned),
                line: sym.line,
                module: sym.module.map(str::to_owned),
            });
        });
        out
    }

    const TARGET_FN_LINE: u32 = line!() + 3;
    #[inline(never)]
    #[no_mangle]
    extern "C" fn kasan_symbolize_test_target(x: u64) -> u64 {
        // Enough work that the function is more than a few bytes long.
        let mut acc = x;
        for i in 0..x {
            acc = std::hint::black_box(acc.wrapping_mul(31).wrapping_add(i));
        }
        acc
    }

    #[no_mangle]
    static KASAN_SYMBOLIZE_TEST_DATA: [u64; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

    #[inline(never)]
    fn rust_named_target() -> usize {
        std::hint::black_box(7)
    }

    fn target_addr() -> usize {
        kasan_symbolize_test_target as extern "C" fn(u64) -> u64 as usize
    }

    #[test]
    fn resolves_function_entry() {
        assert_eq!(kasan_symbolize_test_target(3), 89_406);
        let sym = resolve(target_addr(), false).expect("function resolves");
        assert_eq!(sym.name, "kasan_symbolize_test_target");
        assert_eq!(sym.offset, 0);
        assert!(sym.size > 0);
        assert_eq!(sym.module, None);
    }

    #[test]
    fn resolves_function_middle() {
        let start = resolve(target_addr(), false).expect("function resolves");
        let sym = resolve(target_addr() + start.size / 2, false).expect("middle resolves");
        assert_eq!(sym.name, "kasan_symbolize_test_target");
        assert_eq!(sym.offset, start.size / 2);
        assert_eq!(sym.size, start.size);
    }

    #[test]
    fn return_address_at_function_end() {
        let size = resolve(target_addr(), false).expect("resolves").size;
        let end = target_addr() + size;
        let sym = resolve(end, true).expect("return address resolves");
        assert_eq!(sym.name, "kasan_symbolize_test_target");
        assert_eq!(sym.offset, size);
        assert_eq!(sym.size, size);
        // As a plain address, the end is either the next symbol or alignment
        // padding, which is still attributed to the function, past its size.
        let plain = resolve(end, false).expect("end is inside .text");
        if plain.name == "kasan_symbolize_test_target" {
            assert_eq!(plain.offset, size);
        } else {
            assert_eq!(plain.offset, 0);
        }
        // A return address one past the entry still reports offset 1.
        let sym = resolve(target_addr() + 1, true).expect("resolves");
        assert_eq!(
            (sym.name.as_str(), sym.offset),
            ("kasan_symbolize_test_target", 1)
        );
    }

    #[test]
    fn resolves_static_data() {
        let addr = std::ptr::addr_of!(KASAN_SYMBOLIZE_TEST_DATA) as usize;
        let sym = resolve(addr, false).expect("static resolves");
        assert_eq!(sym.name, "KASAN_SYMBOLIZE_TEST_DATA");
        assert_eq!(sym.offset, 0);
        assert_eq!(sym.size, 64);
        assert_eq!(sym.module, None);
        let sym = resolve(addr + 20, false).expect("static middle resolves");
        assert_eq!(sym.name, "KASAN_SYMBOLIZE_TEST_DATA");
        assert_eq!(sym.offset, 20);
        assert_eq!(sym.size, 64);
    }

    #[test]
    fn finds_file_and_line() {
        let sym = resolve(target_addr(), false).expect("function resolves");
        let file = sym.file.expect("test binary has DWARF");
        assert!(file.ends_with("symbolize.rs"), "{file}");
        assert_eq!(sym.line, Some(TARGET_FN_LINE));
    }

    #[test]
    fn demangles_rust_names() {
        assert_eq!(rust_named_target(), 7);
        let sym = resolve(rust_named_target as fn() -> usize as usize, false).expect("resolves");
        assert_eq!(
            sym.name,
            "kasan_hosted::symbolize::tests::rust_named_target"
        );
        assert_eq!(sym.offset, 0);
    }

    #[test]
    fn resolves_libc_function() {
        // SAFETY: getpid has no preconditions.
        assert!(unsafe { libc::getpid() } > 0);
        let sym = resolve(libc::getpid as *const () as usize, false).expect("getpid resolves");
        assert!(sym.name.contains("getpid"), "{}", sym.name);
        assert_eq!(sym.offset, 0);
        if cfg!(target_feature = "crt-static") {
            assert_eq!(sym.module, None);
        } else {
            let module = sym.module.expect("getpid lives in libc");
            assert!(module.starts_with("libc.so"), "{module}");
        }
    }

    #[test]
    fn nothing_for_unmapped_or_unowned_addresses() {
        for is_return in [false, true] {
            assert_eq!(resolve(0, is_return), None);
            assert_eq!(resolve(1, is_return), None);
            assert_eq!(resolve(usize::MAX, is_return), None);
        }
        let stack = 0u64;
        assert_eq!(resolve(std::ptr::addr_of!(stack) as usize, false), None);
        let heap = Box::new([0u64; 64]);
        assert_eq!(resolve(heap.as_ptr() as usize, false), None);
    }

    #[test]
    fn concurrent_lookups_agree() {
        let expected = resolve(target_addr() + 1, false).expect("resolves");
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    (0..200)
                        .map(|_| resolve(target_addr() + 1, false))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for thread in threads {
            for result in thread.join().expect("thread finished") {
                assert_eq!(result.as_ref(), Some(&expected));
            }
        }
    }
}
