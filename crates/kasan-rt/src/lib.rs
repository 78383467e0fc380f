//! kasan-rt
