//! What the CLI prints: human tables by default, the gateway's answer as JSON
//! with `--json` (one document on standard output).

use comfy_table::{Table, presets::NOTHING};

/// Prints `value` as JSON if asked, else runs `human`.
pub fn show<T: serde::Serialize>(json: bool, value: &T, human: impl FnOnce(&T)) {
    if json {
        println!("{}", serde_json::to_string_pretty(value).expect("answers serialize"));
    } else {
        human(value);
    }
}

/// A plain table: a header row and aligned columns, no borders.
pub fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let mut table = Table::new();
    table.load_preset(NOTHING).set_header(header.iter().map(|h| h.to_uppercase()));
    for row in rows {
        table.add_row(row);
    }
    println!("{table}");
}

/// `-` for nothing.
pub fn or_dash<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map_or_else(|| "-".to_owned(), ToString::to_string)
}
