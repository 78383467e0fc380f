//! What is particular to generic mode (8-byte granules, shadow values that say why a
//! granule is bad): turning a bad access into Linux's bug-type string.

use crate::shadow::{encoding::*, Shadow};

/// The size of a page, below which a wild address is a NULL dereference.
pub const PAGE_SIZE: usize = 4096;

/// Linux's generic `get_bug_type` for an access of `size` bytes at `addr`, whose
/// first bad address is `first_bad`.
pub fn bug_type(shadow: &Shadow, addr: usize, size: usize, first_bad: usize) -> &'static str {
    if addr.checked_add(size).is_none() {
        return "out-of-bounds";
    }
    if !shadow.has_metadata(addr) {
        return wild_type(shadow, addr);
    }
    let mut value = shadow.byte(first_bad).unwrap_or(0);
    // A partial granule is not the reason: the granule after it is.
    if (1..=7).contains(&value) {
        value = shadow.byte(first_bad + 8).unwrap_or(0);
    }
    match value {
        0..=7 => "out-of-bounds",
        PAGE_REDZONE | SLAB_REDZONE => "slab-out-of-bounds",
        GLOBAL_REDZONE => "global-out-of-bounds",
        STACK_LEFT | STACK_MID | STACK_RIGHT | STACK_PARTIAL => "stack-out-of-bounds",
        PAGE_FREE => "use-after-free",
        SLAB_FREE | SLAB_FREE_META => "slab-use-after-free",
        ALLOCA_LEFT | ALLOCA_RIGHT => "alloca-out-of-bounds",
        VMALLOC_INVALID => "vmalloc-out-of-bounds",
        USER_POISON => "use-after-poison",
        _ => "unknown-crash",
    }
}

/// The type of an access to memory without shadow: the first page is a NULL
/// dereference, anything else is wild.
pub fn wild_type(shadow: &Shadow, addr: usize) -> &'static str {
    if addr < PAGE_SIZE {
        "null-ptr-deref"
    } else if addr < shadow.range().0 {
        "user-memory-access"
    } else {
        "wild-memory-access"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeMemory;

    #[test]
    fn every_shadow_value_gets_linux_title() {
        let m = FakeMemory::new(4096);
        let s = m.shadow();
        let b = m.base();
        let cases: &[(u8, &str)] = &[
            (PAGE_REDZONE, "slab-out-of-bounds"),
            (SLAB_REDZONE, "slab-out-of-bounds"),
            (GLOBAL_REDZONE, "global-out-of-bounds"),
            (STACK_LEFT, "stack-out-of-bounds"),
            (STACK_MID, "stack-out-of-bounds"),
            (STACK_RIGHT, "stack-out-of-bounds"),
            (STACK_PARTIAL, "stack-out-of-bounds"),
            (PAGE_FREE, "use-after-free"),
            (SLAB_FREE, "slab-use-after-free"),
            (SLAB_FREE_META, "slab-use-after-free"),
            (ALLOCA_LEFT, "alloca-out-of-bounds"),
            (ALLOCA_RIGHT, "alloca-out-of-bounds"),
            (VMALLOC_INVALID, "vmalloc-out-of-bounds"),
            (0xF5, "unknown-crash"),
            (0, "out-of-bounds"),
        ];
        for &(value, title) in cases {
            s.poison(b, 64, value);
            assert_eq!(bug_type(&s, b, 1, b), title, "shadow {value:#x}");
            // Behind a partial granule, the next granule decides.
            s.unpoison(b, 5);
            assert_eq!(bug_type(&s, b + 5, 1, b), title, "partial then {value:#x}");
        }
        assert_eq!(bug_type(&s, b, usize::MAX, b), "out-of-bounds");
        assert_eq!(bug_type(&s, 16, 8, 16), "null-ptr-deref");
        assert_eq!(bug_type(&s, usize::MAX - 8, 8, 0), "wild-memory-access");
    }
}
