//! Durations as kubectl's flags write them: `30s`, `15m`, `1h30m`, `500ms`, `0`.

use std::time::Duration;

/// Parses a duration for a clap flag.
pub fn parse(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err("empty duration; use a number with a unit, like 30s, 15m or 1h".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("invalid duration {text:?}: expected a number at {rest:?}"));
        }
        let (number, after) = rest.split_at(digits);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: bad number {number:?}"))?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let seconds = match unit {
            "ms" => value / 1000.0,
            "s" => value,
            "m" => value * 60.0,
            "h" => value * 3600.0,
            "" => {
                return Err(format!(
                    "invalid duration {text:?}: missing unit; use s, m or h (like 30s, 15m, 1h)"
                ));
            }
            other => {
                return Err(format!(
                    "invalid duration {text:?}: unknown unit {other:?}; use ms, s, m or h"
                ));
            }
        };
        total += Duration::from_secs_f64(seconds);
        rest = next;
    }
    Ok(total)
}

/// A short human form: `15m`, `1h30m`, `45s`, `2m5s`, `800ms`.
pub fn format(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return if d.is_zero() {
            "0s".into()
        } else {
            format!("{}ms", d.as_millis())
        };
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_style_durations_parse() {
        assert_eq!(parse("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("2m5s"), Ok(Duration::from_secs(125)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_durations_say_how_to_write_one() {
        assert!(parse("10").expect_err("no unit").contains("missing unit"));
        assert!(parse("5d").expect_err("days").contains("unknown unit"));
        assert!(parse("m").expect_err("no number").contains("expected a number"));
        assert!(parse("").is_err());
    }

    #[test]
    fn durations_format_shortly() {
        assert_eq!(format(Duration::from_secs(900)), "15m");
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format(Duration::from_secs(125)), "2m5s");
        assert_eq!(format(Duration::from_secs(3)), "3s");
        assert_eq!(format(Duration::from_millis(800)), "800ms");
        assert_eq!(format(Duration::ZERO), "0s");
    }
}
