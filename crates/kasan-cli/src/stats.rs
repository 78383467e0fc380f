//! `kasan stats`: what the `kasan: stats:` line printed at exit with
//! `KASAN_OPTIONS=kasan.stats=on` means, key by key. In JSON mode
//! (`kasan.report_format=json`) the same keys are the `stats` object of one
//! `{"version":1,"kind":"stats",...}` line (`docs/report-json.md`).

/// Every key of the stats line, with its meaning.
pub const KEYS: &[(&str, &str)] = &[
    ("reports", "bug reports printed (kasan_reports_count())"),
    ("depot_stacks", "distinct alloc/free/aux stacks stored in the stack depot"),
    ("depot_bytes", "memory the depot holds: hash table, pool index and pools"),
    ("depot_evicted", "stack records freed by their last reference (evictable stacks)"),
    ("depot_failed", "saves refused because kasan.stack_depot_size was reached: those tracks print \"(stack is not available)\""),
    ("quarantine_bytes", "freed objects (slot or page footprint) held back from reuse"),
    ("heap_pages", "4 KiB pages the heap's runs occupy (objects, redzones, headers)"),
    ("live_objects", "objects allocated and not yet freed"),
    ("shadow_bytes", "resident shadow memory (1 byte per 8 bytes of memory that was ever poisoned or checked; sw-tags: the tag shadow, 1 byte per 16)"),
    ("heap_resident", "sw-tags: the heap's resident bytes, each page once however many tag aliases map it (VmRSS counts it once per alias); generic: heap_pages x 4096"),
    ("report_stack_bytes", "deepest use of the runtime's report stack, where reports are classified, symbolized and rendered (0 if no report)"),
];

/// Prints the table; returns the exit code.
pub fn main() -> i32 {
    println!("KASAN_OPTIONS=kasan.stats=on prints one line at exit:");
    println!("  kasan: stats: key=value ...");
    println!("(with kasan.report_format=json: {{\"version\":1,\"kind\":\"stats\",\"mode\":\"generic\",\"stats\":{{\"key\":value,...}}}})");
    println!();
    let width = KEYS.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, meaning) in KEYS {
        println!("  {key:width$}  {meaning}");
    }
    0
}

#[cfg(test)]
mod tests {
    use super::KEYS;

    /// The JSON schema's `stats` object has exactly these keys.
    #[test]
    fn schema_lists_every_key() {
        let schema = include_str!("../../../docs/report-json.schema.json");
        // The last `"stats": {` is the object inside the stats line's definition.
        let stats = &schema[schema.rfind("\"stats\": {").expect("stats definition")..];
        let required = &stats[stats.find("\"required\": [").expect("required")..];
        let required = &required[..required.find(']').expect("end of list")];
        let listed: Vec<&str> = required.split('"').skip(3).step_by(2).collect();
        let keys: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
        assert_eq!(listed, keys);
    }
}
