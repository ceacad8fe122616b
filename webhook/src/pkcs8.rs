//! Private keys in PKCS#8, the one form the certificate library signs with: a CA key in PKCS#1
//! (`RSA PRIVATE KEY`, as Helm's `genCA` writes it) is wrapped into PKCS#8 unchanged.

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The DER of the AlgorithmIdentifier `rsaEncryption` (1.2.840.113549.1.1.1) with NULL parameters.
const RSA_ENCRYPTION: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// `key` as PKCS#8: PKCS#8 as it is, PKCS#1 (RSA) wrapped; `None` for other forms (SEC1).
pub fn to_pkcs8(key: &PrivateKeyDer<'_>) -> Option<PrivatePkcs8KeyDer<'static>> {
    match key {
        PrivateKeyDer::Pkcs8(der) => Some(der.clone_key()),
        PrivateKeyDer::Pkcs1(der) => {
            let mut body = vec![0x02, 0x01, 0x00];
            body.extend_from_slice(&RSA_ENCRYPTION);
            body.push(0x04);
            push_len(&mut body, der.secret_pkcs1_der().len());
            body.extend_from_slice(der.secret_pkcs1_der());
            let mut out = vec![0x30];
            push_len(&mut out, body.len());
            out.extend_from_slice(&body);
            Some(PrivatePkcs8KeyDer::from(out))
        }
        _ => None,
    }
}

/// A DER length: short form below 128, else the big-endian bytes after 0x80 | their count.
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_der() {
        let len = |n| {
            let mut v = Vec::new();
            push_len(&mut v, n);
            v
        };
        assert_eq!(len(5), [5]);
        assert_eq!(len(127), [127]);
        assert_eq!(len(128), [0x81, 128]);
        assert_eq!(len(1190), [0x82, 0x04, 0xa6]);
    }

    #[test]
    fn sec1_keys_are_not_converted() {
        let key = PrivateKeyDer::Sec1(vec![0x30, 0x00].into());
        assert!(to_pkcs8(&key).is_none());
    }
}
