//! kasan-hosted
