//! The JSON lines' schema (`docs/report-json.schema.json`, built in): every line
//! of a test's output that starts with `{` must be one JSON object valid against
//! it, whatever the test checks besides. Validation uses the `jsonschema` crate.

use std::sync::OnceLock;

/// The schema, as the repository documents it (`docs/report-json.md`).
pub const SCHEMA: &str = include_str!("../../../docs/report-json.schema.json");

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(SCHEMA).expect("docs/report-json.schema.json is JSON");
        jsonschema::draft202012::new(&schema).expect("docs/report-json.schema.json is a schema")
    })
}

/// Checks one line: `Err` says why it is no valid object of the schema (the first
/// few errors, each with where in the object it is).
pub fn check_line(line: &str) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let errors: Vec<String> = validator()
        .iter_errors(&value)
        .take(5)
        .map(|e| format!("{e} (at {})", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// The problems of every line of `text` (`where_` names it: stderr, a log) that
/// starts with `{` and does not validate.
pub fn check_output(file: &str, where_: &str, text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with('{'))
        .filter_map(|(i, l)| {
            check_line(l).err().map(|e| {
                format!(
                    "{file}: {where_} line {} does not validate against docs/report-json.schema.json: {e}\n      {l}",
                    i + 1
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{"version":1,"kind":"report","mode":"generic","bug_type":"slab-out-of-bounds","access":"write","size":1,"addr":"0x7f0000000064","first_bad_addr":"0x7f0000000064","pointer_tag":null,"memory_tag":null,"ip":"0x55000000123a","function":"write_byte","task":{"comm":"t","pid":7},"cpu":1,"taint":"","release":"kasan-0.1.0","frames":[{"ip":"0x55000000123a","function":"write_byte","offset":26,"size":48,"file":"t.c","line":9,"inlined":[{"function":"f","file":"t.c","line":3}]}],"memory":"slab","alloc_track":{"task":7,"cpu":null,"time_ns":null,"frames":null},"free_track":null,"aux_stacks":[],"object":{"cache":"kmalloc-128","start":"0x7f0000000000","size":100,"object_size":128,"state":"allocated","offset_relation":"right","distance":0},"page":null,"vmalloc":null,"stack":null,"variable":null,"shadow":[{"addr":"0x1","buggy":false,"bytes":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,null]},{"addr":"0x1","buggy":false,"bytes":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]},{"addr":"0x1","buggy":true,"bytes":[0,0,0,0,0,0,0,0,0,0,0,0,4,252,252,252]},{"addr":"0x1","buggy":false,"bytes":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]},{"addr":"0x1","buggy":false,"bytes":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}],"fault":null}"#;

    #[test]
    fn the_runtimes_lines_validate() {
        for ok in [
            REPORT,
            r#"{"version":1,"kind":"warning","mode":"generic","warning":"x"}"#,
            r#"{"version":1,"kind":"warning","mode":"generic","warning":"nested reports dropped","dropped":1,"queue":8}"#,
            r#"{"version":1,"kind":"panic","mode":"generic","panic":"kasan.fault=panic set ..."}"#,
            r#"{"version":1,"kind":"stats","mode":"generic","stats":{"reports":1,"depot_stacks":2,"depot_bytes":3,"depot_evicted":0,"depot_failed":0,"quarantine_bytes":0,"heap_pages":1,"live_objects":1,"shadow_bytes":4096,"heap_resident":4096,"report_stack_bytes":0}}"#,
        ] {
            assert_eq!(check_line(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn broken_lines_fail() {
        let missing_version = REPORT.replace(r#""version":1,"#, "");
        let absent_instead_of_null = REPORT.replace(r#","free_track":null"#, "");
        let invented_cache = REPORT.replace(r#""cache":"kmalloc-128""#, r#""cache":7"#);
        let extra = REPORT.replace(r#""fault":null"#, r#""fault":null,"x":1"#);
        let old_warning = r#"{"mode":"generic","warning":"x"}"#.to_string();
        let bad_stats =
            r#"{"version":1,"kind":"stats","mode":"generic","stats":{"reports":1}}"#.to_string();
        for bad in [
            missing_version,
            absent_instead_of_null,
            invented_cache,
            extra,
            old_warning,
            bad_stats,
            "{".to_string(),
        ] {
            assert!(check_line(&bad).is_err(), "{bad}");
        }
        assert_eq!(check_output("t.c", "stderr", "text\n{}\n").len(), 1);
    }
}
