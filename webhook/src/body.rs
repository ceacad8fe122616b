//! Reading a request body with a cap: the body is read only up to `--max-body-bytes`, and a
//! `Content-Length` above it is refused before a byte is read.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the request body could not be read: {0}")]
    Read(#[from] axum::Error),
}

/// The `Content-Length` the client announced, when it did and it is a number.
pub fn announced_length(headers: &HeaderMap) -> Option<usize> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Reads the whole body, refusing it as soon as it grows past `limit` bytes. Memory is reserved
/// for the announced length up to the limit, so a well-behaved body is copied once.
pub async fn read_limited(body: Body, limit: usize, announced: Option<usize>) -> Result<Bytes, BodyError> {
    if announced.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = body;
    let mut buf: Vec<u8> = Vec::with_capacity(announced.unwrap_or(0).min(limit));
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if buf.len() + data.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        buf.extend_from_slice(&data);
    }
    Ok(Bytes::from(buf))
}

/// About how many JSON values a body holds, counted without parsing it: every object and list
/// opened and every separator outside strings. Parsed, each value costs about 100 bytes of memory
/// (a 2-byte `[]` as much as a short string), so this, not the body's size, bounds what parsing
/// costs.
pub fn json_values(body: &[u8]) -> usize {
    let mut count = 1;
    let mut rest = body;
    loop {
        // Outside strings: count the openers and separators up to the next quote.
        let quote = memchr::memchr(b'"', rest);
        count += rest[..quote.unwrap_or(rest.len())]
            .iter()
            .filter(|&&b| matches!(b, b'{' | b'[' | b','))
            .count();
        let Some(at) = quote else { return count };
        rest = &rest[at + 1..];
        // Inside a string: on to its closing quote, stepping over escaped characters.
        loop {
            match memchr::memchr2(b'"', b'\\', rest) {
                None => return count,
                Some(at) if rest[at] == b'\\' => rest = rest.get(at + 2..).unwrap_or_default(),
                Some(at) => {
                    rest = &rest[at + 1..];
                    break;
                }
            }
        }
    }
}

/// The body's [`json_values`] when they are more than `max`. A body holds at most one value per
/// byte (`[[[` opens one with each), plus one, so bodies shorter than `max` are not scanned.
pub fn json_values_over(body: &[u8], max: usize) -> Option<usize> {
    if body.len() < max {
        return None;
    }
    Some(json_values(body)).filter(|&values| values > max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_are_counted_outside_strings() {
        assert_eq!(json_values(b"1"), 1);
        assert_eq!(json_values(br#"{"a":[1,2,3]}"#), 5);
        assert_eq!(json_values(br#"{"a":"[,{\"x","b":"\\"}"#), 3);
        assert_eq!(json_values(b"[[[[[]]]]]"), 6);
        let many = format!("[{}1]", "1,".repeat(10_000));
        assert_eq!(json_values(many.as_bytes()), 10_002);
        // Unterminated strings and a trailing escape end the count where they start.
        assert_eq!(json_values(br#"[1,"a,b"#), 3);
        assert_eq!(json_values(br#"[1,"a\"#), 3);
        assert_eq!(json_values(br#"["\\",{"#), 4);
    }

    /// The count byte by byte, as a reference for the skipping one.
    fn json_values_bytewise(body: &[u8]) -> usize {
        let (mut count, mut in_string, mut escaped) = (1usize, false, false);
        for &b in body {
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' | b',' => count += 1,
                _ => {}
            }
        }
        count
    }

    #[test]
    fn only_bodies_that_could_hold_more_values_than_the_limit_are_counted() {
        // Every byte a value: the densest body there is.
        let dense = "[".repeat(99);
        assert_eq!(json_values(dense.as_bytes()), 100);
        assert_eq!(json_values_over(dense.as_bytes(), 100), None);
        assert_eq!(json_values_over(dense.as_bytes(), 99), Some(100));
        let sparse = format!("[\"{}\"]", "x".repeat(1_000));
        assert_eq!(json_values_over(sparse.as_bytes(), 10), None);
    }

    #[test]
    fn skipping_counts_what_a_byte_by_byte_scan_counts() {
        const ALPHABET: &[u8] = b"\"\\{[,a}]";
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for len in 0..400 {
            let body: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    ALPHABET[(seed >> 33) as usize % ALPHABET.len()]
                })
                .collect();
            assert_eq!(
                json_values(&body),
                json_values_bytewise(&body),
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
    }

    #[tokio::test]
    async fn bodies_up_to_the_limit_are_read() {
        let body = Body::from(vec![b'x'; 100]);
        assert_eq!(read_limited(body, 100, Some(100)).await.unwrap().len(), 100);
        let body = Body::from(vec![b'x'; 100]);
        assert_eq!(read_limited(body, 100, None).await.unwrap().len(), 100);
    }

    #[tokio::test]
    async fn larger_bodies_are_refused_announced_or_not() {
        let body = Body::from(vec![b'x'; 101]);
        assert!(matches!(
            read_limited(body, 100, None).await,
            Err(BodyError::TooLarge { limit: 100 })
        ));
        // Announced too large: refused without reading (the body here would be fine).
        let body = Body::from(vec![b'x'; 10]);
        assert!(matches!(
            read_limited(body, 100, Some(1 << 30)).await,
            Err(BodyError::TooLarge { .. })
        ));
    }

    #[test]
    fn the_announced_length_is_read_from_the_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(announced_length(&h), None);
        h.insert(header::CONTENT_LENGTH, "42".parse().unwrap());
        assert_eq!(announced_length(&h), Some(42));
        h.insert(header::CONTENT_LENGTH, "lots".parse().unwrap());
        assert_eq!(announced_length(&h), None);
    }
}
