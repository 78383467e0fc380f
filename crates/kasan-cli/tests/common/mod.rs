//! What several integration tests share: the instrumented shared library they load
//! (a heap read and a global read, each with its line for the expected reports).

/// The library's C source.
pub const LIBRARY: &str = r#"#include <stdlib.h>

int lib_global[4];

__attribute__((noinline)) int lib_heap_read(int n, int i)
{
	char *p = malloc(n);
	int r;

	p[n - 1] = 7;
	r = ((volatile char *)p)[i];
	free(p);
	return r;
}

__attribute__((noinline)) int lib_global_read(int i)
{
	return ((volatile int *)lib_global)[i];
}
"#;

/// The line of `r = ((volatile char *)p)[i];`, of `malloc`, and of the global read in
/// [`LIBRARY`].
pub const HEAP_READ_LINE: u32 = 11;
#[allow(dead_code)] // used by dlopen.rs, not by preload.rs
pub const MALLOC_LINE: u32 = 7;
pub const GLOBAL_READ_LINE: u32 = 18;
