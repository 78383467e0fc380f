//! `kasan symbolize BINARY < report`: decodes the frames of a report, like Linux's
//! `scripts/decode_stacktrace.sh`.
//!
//! Each frame line ` func+0xoff/0xsize` (or a bare ` 0xADDR`, taken as an address in
//! the binary's own numbering, as for a non-PIE program) gains ` file:line` from the
//! binary's DWARF, preceded by ` name file:line [inline]` lines for the functions
//! inlined at that point, innermost first; so does the faulting instruction of an oops
//! (`RIP: 0010:func+0x../0x..` or `RIP: 0010:0xADDR`). Other lines pass through
//! unchanged, so the whole report can be piped through.

use std::borrow::Cow;
use std::io::{self, BufRead, Write};
use std::path::Path;

use object::{Object, ObjectSymbol};

type Reader<'a> = addr2line::gimli::EndianSlice<'a, addr2line::gimli::RunTimeEndian>;

/// A binary's symbols and line tables.
struct Binary<'a> {
    symbols: Vec<(String, u64)>,
    dwarf: addr2line::Context<Reader<'a>>,
}

impl<'a> Binary<'a> {
    fn load(file: &'a object::File<'a>) -> Result<Binary<'a>, String> {
        let mut symbols = Vec::new();
        for sym in file.symbols().chain(file.dynamic_symbols()) {
            if let Ok(name) = sym.name() {
                if sym.address() != 0 && !name.is_empty() {
                    let demangled = format!("{:#}", rustc_demangle::demangle(name));
                    symbols.push((demangled, sym.address()));
                    if name != symbols.last().map_or("", |s| s.0.as_str()) {
                        symbols.push((name.to_owned(), sym.address()));
                    }
                }
            }
        }
        let endian = if file.is_little_endian() {
            addr2line::gimli::RunTimeEndian::Little
        } else {
            addr2line::gimli::RunTimeEndian::Big
        };
        let load =
            |id: addr2line::gimli::SectionId| -> Result<Reader<'a>, addr2line::gimli::Error> {
                let data = file
                    .section_by_name(id.name())
                    .and_then(|s| object::ObjectSection::data(&s).ok())
                    .unwrap_or(&[]);
                Ok(addr2line::gimli::EndianSlice::new(data, endian))
            };
        let dwarf = addr2line::gimli::Dwarf::load(load).map_err(|e| e.to_string())?;
        let dwarf = addr2line::Context::from_dwarf(dwarf).map_err(|e| e.to_string())?;
        Ok(Binary { symbols, dwarf })
    }

    fn address_of(&self, name: &str) -> Option<u64> {
        self.symbols
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| *a)
    }

    /// The frames at `addr` (a return address: its call is at `addr - 1`),
    /// innermost first, as (function, file, line).
    fn frames(&self, addr: u64) -> Vec<(Option<String>, Option<String>, Option<u32>)> {
        let mut out = Vec::new();
        if let Ok(mut frames) = self
            .dwarf
            .find_frames(addr.saturating_sub(1))
            .skip_all_loads()
        {
            while let Ok(Some(frame)) = frames.next() {
                let name = frame
                    .function
                    .as_ref()
                    .and_then(|f| f.demangle().ok().map(Cow::into_owned));
                let (file, line) = frame
                    .location
                    .map_or((None, None), |l| (l.file.map(str::to_owned), l.line));
                out.push((name, file, line));
            }
        }
        out
    }
}

/// A parsed frame line.
#[derive(Debug, PartialEq, Eq)]
enum Frame<'l> {
    /// ` func+0xoff/0xsize`.
    Symbolic {
        name: &'l str,
        offset: u64,
        rest: &'l str,
    },
    /// ` 0xADDR`.
    Raw(u64),
}

fn parse_hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

fn parse(line: &str) -> Option<Frame<'_>> {
    let body = line.strip_prefix(' ')?;
    if body.starts_with(' ') || body.starts_with('<') {
        return None;
    }
    let word = body.split(' ').next()?;
    if let Some(addr) = parse_hex(word).filter(|_| word.len() == body.len()) {
        return Some(Frame::Raw(addr));
    }
    let (name, tail) = word.rsplit_once('+')?;
    let (offset, size) = tail.split_once('/')?;
    parse_hex(size)?;
    let rest = &body[word.len()..];
    Some(Frame::Symbolic {
        name,
        offset: parse_hex(offset)?,
        rest,
    })
}

/// The prefix of the faulting instruction's line in an oops (`RIP: 0010:func+0x1/0x2`).
const RIP: &str = "RIP: 0010:";

/// Decodes one line; `None` leaves it as it is.
fn decode(binary: &Binary<'_>, line: &str) -> Option<String> {
    if let Some(frame) = line.strip_prefix(RIP) {
        // The same frame forms after the prefix; the decoded line keeps it.
        let decoded = decode(binary, &format!(" {frame}"))?;
        let (inlined, last) = match decoded.rsplit_once('\n') {
            Some((inl, last)) => (format!("{inl}\n"), last.to_owned()),
            None => (String::new(), decoded),
        };
        return Some(format!("{inlined}{RIP}{}", &last[1..]));
    }
    let (addr, head) = match parse(line)? {
        // A frame already decoded (it has `file:line` after it) stays as it is.
        Frame::Symbolic { rest, .. } if !rest.trim().is_empty() => return None,
        Frame::Symbolic { name, offset, .. } => (
            binary.address_of(name)? + offset,
            line.trim_end().to_owned(),
        ),
        Frame::Raw(addr) => (addr, line.trim_end().to_owned()),
    };
    let frames = binary.frames(addr);
    let mut out = String::new();
    let last = frames.len().saturating_sub(1);
    for (i, (name, file, line_no)) in frames.iter().enumerate() {
        let location = match (file, line_no) {
            (Some(f), Some(l)) => format!(" {f}:{l}"),
            _ => String::new(),
        };
        if i < last {
            out.push_str(&format!(
                " {}{location} [inline]\n",
                name.as_deref().unwrap_or("??")
            ));
        } else {
            out.push_str(&format!("{head}{location}"));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Runs `kasan symbolize`; returns the exit code.
pub fn main(binary: &Path) -> i32 {
    let data = match std::fs::read(binary) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("kasan symbolize: cannot read {}: {e}", binary.display());
            return 2;
        }
    };
    let file = match object::File::parse(&*data) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "kasan symbolize: {} is not an object file: {e}",
                binary.display()
            );
            return 2;
        }
    };
    let bin = match Binary::load(&file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "kasan symbolize: cannot read debug information of {}: {e}",
                binary.display()
            );
            return 2;
        }
    };
    let stdin = io::stdin();
    let mut stdout = io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let text = decode(&bin, &line).unwrap_or(line);
        if writeln!(stdout, "{text}").is_err() {
            return 1;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frame_lines() {
        assert_eq!(
            parse(" dup_name+0xf4/0xf6"),
            Some(Frame::Symbolic {
                name: "dup_name",
                offset: 0xf4,
                rest: ""
            })
        );
        assert_eq!(
            parse(" main+0x15/0x3e examples/oob.c:32"),
            Some(Frame::Symbolic {
                name: "main",
                offset: 0x15,
                rest: " examples/oob.c:32"
            })
        );
        assert_eq!(parse(" 0x401136"), Some(Frame::Raw(0x401136)));
        assert_eq!(parse(" <TASK>"), None);
        assert_eq!(parse("BUG: KASAN: slab-out-of-bounds in f+0x1/0x2"), None);
        assert_eq!(
            parse(" which belongs to the cache kmalloc-16 of size 16"),
            None
        );
        assert_eq!(parse("  [32, 72) 'arr'"), None);
    }
}
