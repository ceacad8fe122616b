//! Kubernetes quantities (`16Gi`, `512M`, `2`) as plain numbers, for limits in policies.

/// A memory quantity in bytes.
pub fn parse_bytes(q: &str) -> Option<u128> {
    let q = q.trim();
    let split = q.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match suffix {
        "" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    (number >= 0.0).then(|| (number * factor).round() as u128)
}

/// A CPU count: `4`, `"4"`, or millicores `4000m`.
pub fn parse_cpus(q: &str) -> Option<f64> {
    let q = q.trim();
    match q.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().ok().map(|m| m / 1000.0),
        None => q.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_bytes("16Gi"), Some(16 * 1024 * 1024 * 1024));
        assert_eq!(parse_bytes("512M"), Some(512_000_000));
        assert_eq!(parse_bytes("1.5Ki"), Some(1536));
        assert_eq!(parse_bytes("12 parsecs"), None);
        assert_eq!(parse_cpus("4"), Some(4.0));
        assert_eq!(parse_cpus("1500m"), Some(1.5));
        assert_eq!(parse_cpus("x"), None);
    }
}
