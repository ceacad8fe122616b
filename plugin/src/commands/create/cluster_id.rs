//! KKP-style cluster IDs: ten characters, a letter `a`–`z` first, then nine from Kubernetes'
//! random-string alphabet (no vowels, no easily confused digits), as KKP's `MakeClusterName`
//! makes them.

use rand::Rng;

/// The alphabet of the nine characters after the first.
pub const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// The length of an ID.
pub const LENGTH: usize = 10;

/// A new cluster ID.
pub fn generate(rng: &mut impl Rng) -> String {
    let mut id = String::with_capacity(LENGTH);
    id.push(char::from(b'a' + rng.random_range(0..26u8)));
    for _ in 1..LENGTH {
        id.push(char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]));
    }
    id
}

/// Whether `id` has the shape of a generated cluster ID.
#[cfg(test)]
pub fn looks_generated(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == LENGTH && bytes[0].is_ascii_lowercase() && bytes[1..].iter().all(|b| ALPHABET.contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_start_with_a_letter_and_use_the_kubernetes_alphabet() {
        let mut rng = rand::rng();
        let ids: std::collections::HashSet<String> = (0..500).map(|_| generate(&mut rng)).collect();
        assert!(ids.len() > 490, "IDs repeat too often");
        for id in &ids {
            assert!(looks_generated(id), "{id}");
        }
        assert!(!looks_generated("aaaaaaaaaa"), "vowels are not in the alphabet");
        assert!(!looks_generated("2bcdfghjkl"), "the first character is a letter");
        assert!(!looks_generated("abc"));
    }
}
