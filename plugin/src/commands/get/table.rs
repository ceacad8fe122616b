//! kubectl-style tables: upper-case headers, columns padded to their widest cell plus three
//! spaces, and ages written the way kubectl writes them (`45s`, `5m30s`, `3h`, `2d`).

use crate::printer::Printer;
use std::time::Duration;

/// Renders rows under headers; the last column is not padded.
pub fn render(headers: &[&str], rows: &[Vec<String>], with_headers: bool) -> String {
    let columns = headers.len();
    let mut widths: Vec<usize> = if with_headers {
        headers.iter().map(|h| h.chars().count()).collect()
    } else {
        vec![0; columns]
    };
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i + 1 < columns {
                text.push_str(cell);
                text.push_str(&" ".repeat(widths[i] - cell.chars().count() + 3));
            } else {
                text.push_str(cell);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    if with_headers {
        line(&mut headers.iter().copied());
    }
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// kubectl's age: seconds below two minutes, then minutes (with seconds below ten minutes),
/// hours (with minutes below eight hours), days (with hours below eight days), years.
pub fn age(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{days}d"),
            h => format!("{days}d{h}h"),
        };
    }
    if days < 365 * 2 {
        return format!("{days}d");
    }
    let years = days / 365;
    if years < 8 {
        return match days % 365 {
            0 => format!("{years}y"),
            d => format!("{years}y{d}d"),
        };
    }
    format!("{years}y")
}

/// The age of an RFC 3339 timestamp relative to now; `<unknown>` when it does not parse.
pub fn age_since(timestamp: Option<&str>, now: k8s_openapi::jiff::Timestamp) -> String {
    let Some(parsed) = timestamp.and_then(|t| t.parse::<k8s_openapi::jiff::Timestamp>().ok()) else {
        return "<unknown>".to_owned();
    };
    let seconds = now.as_second() - parsed.as_second();
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    age(Duration::from_secs(seconds.max(0) as u64))
}

/// Drops what kubectl hides by default (`managedFields`).
pub fn tidy(mut object: serde_json::Value) -> serde_json::Value {
    if let Some(meta) = object.get_mut("metadata").and_then(serde_json::Value::as_object_mut) {
        meta.remove("managedFields");
    }
    object
}

/// How `get` prints what it found: a table by default, a `List` for a listing in yaml or json
/// (as kubectl does), the objects themselves otherwise.
pub struct Listing<'a> {
    pub headers: &'a [&'a str],
    pub row: fn(&serde_json::Value, k8s_openapi::jiff::Timestamp) -> Vec<String>,
    /// Said on stderr when a listing finds nothing.
    pub none_found: String,
    pub listing: bool,
    pub with_headers: bool,
}

impl Listing<'_> {
    pub fn print(&self, found: &[serde_json::Value], format: Option<crate::output::OutputFormat>, printer: &Printer) {
        use crate::output::OutputFormat;
        match format {
            None if found.is_empty() => {
                if self.listing {
                    printer.message(format_args!("{}", self.none_found));
                }
            }
            None => {
                let now = k8s_openapi::jiff::Timestamp::now();
                let rows: Vec<Vec<String>> = found.iter().map(|o| (self.row)(o, now)).collect();
                printer.data_text(&render(self.headers, &rows, self.with_headers));
            }
            Some(format) if self.listing && format != OutputFormat::Name => {
                let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": found});
                printer.objects(&[list], format);
            }
            Some(format) => printer.objects(found, format),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_match_kubectl() {
        let cases = [
            (0, "0s"),
            (90, "90s"),
            (119, "119s"),
            (120, "2m"),
            (330, "5m30s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 5 * 60, "3h5m"),
            (8 * 3600 + 5 * 60, "8h"),
            (47 * 3600, "47h"),
            (2 * 86400, "2d"),
            (2 * 86400 + 3 * 3600, "2d3h"),
            (30 * 86400, "30d"),
            (3 * 365 * 86400 + 86400, "3y1d"),
            (9 * 365 * 86400, "9y"),
        ];
        for (secs, want) in cases {
            assert_eq!(age(Duration::from_secs(secs)), want, "{secs}s");
        }
    }

    #[test]
    fn ages_from_timestamps() {
        let now: k8s_openapi::jiff::Timestamp = "2026-01-02T00:00:00Z".parse().expect("now");
        assert_eq!(age_since(Some("2026-01-01T21:00:00Z"), now), "3h");
        assert_eq!(age_since(Some("not a time"), now), "<unknown>");
        assert_eq!(age_since(None, now), "<unknown>");
        assert_eq!(age_since(Some("2026-01-03T00:00:00Z"), now), "<invalid>");
    }

    #[test]
    fn columns_are_padded_like_kubectl() {
        let rows = vec![
            vec!["abc".to_owned(), "Running".to_owned(), "5m".to_owned()],
            vec!["a-long-name".to_owned(), "".to_owned(), "3h".to_owned()],
        ];
        let text = render(&["NAME", "PHASE", "AGE"], &rows, true);
        assert_eq!(
            text,
            "NAME          PHASE     AGE\nabc           Running   5m\na-long-name             3h\n"
        );
        let bare = render(&["NAME", "PHASE", "AGE"], &rows, false);
        assert!(bare.starts_with("abc           Running   5m\n"), "{bare}");
    }
}
