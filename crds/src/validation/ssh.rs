//! Parsing of `authorized_keys` lines, as machine-controller requires of every sshPublicKey.
//!
//! The key data is the SSH wire format (RFC 4253 section 6.6, RFC 5656, RFC 8709 and OpenSSH's
//! `PROTOCOL.u2f`): length-prefixed strings and multi-precision integers. It is read in full, so a
//! key with its type but no key material, a truncated key or one with bytes after its last field
//! is refused, the way machine-controller's parser refuses it.

use base64::Engine;

const KEY_TYPES: [&str; 9] = [
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-ed448",
];

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 1024;

/// Checks one authorized_keys line (`[options] type base64 [comment]`) and returns its key type.
pub fn parse_authorized_key(line: &str) -> Result<&str, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let at = fields
        .iter()
        .position(|f| KEY_TYPES.contains(f))
        .ok_or_else(|| "not an SSH public key: no known key type (such as ssh-ed25519 or ssh-rsa)".to_owned())?;
    let key_type = fields[at];
    let blob = fields
        .get(at + 1)
        .ok_or_else(|| format!("{key_type} key has no key data"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .map_err(|_| format!("{key_type} key data is not valid base64"))?;
    check_key_data(key_type, &bytes)?;
    Ok(key_type)
}

/// Reads the fields of an SSH wire-format blob in order.
struct Reader<'a> {
    rest: &'a [u8],
    key_type: &'a str,
}

impl<'a> Reader<'a> {
    fn truncated(&self) -> String {
        format!("{} key data is truncated", self.key_type)
    }

    /// One `string`: a 32-bit big-endian length and that many bytes.
    fn string(&mut self) -> Result<&'a [u8], String> {
        let (len, rest) = self.rest.split_first_chunk::<4>().ok_or_else(|| self.truncated())?;
        let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| self.truncated())?;
        if rest.len() < len {
            return Err(self.truncated());
        }
        let (value, rest) = rest.split_at(len);
        self.rest = rest;
        Ok(value)
    }

    /// One `mpint` that must be positive; returns its magnitude without leading zero bytes.
    fn positive_mpint(&mut self, what: &str) -> Result<&'a [u8], String> {
        let raw = self.string()?;
        if raw.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(format!("{} key {what} is negative", self.key_type));
        }
        let start = raw.iter().position(|b| *b != 0).unwrap_or(raw.len());
        let magnitude = &raw[start..];
        if magnitude.is_empty() {
            return Err(format!("{} key {what} is zero", self.key_type));
        }
        Ok(magnitude)
    }

    fn finish(self) -> Result<(), String> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} key data has {} unexpected trailing bytes",
                self.key_type,
                self.rest.len()
            ))
        }
    }
}

/// The bit length of a big-endian magnitude without leading zero bytes.
fn bit_length(magnitude: &[u8]) -> usize {
    match magnitude.first() {
        None => 0,
        Some(first) => (magnitude.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
    }
}

/// The encoded size of an uncompressed point (`0x04 || X || Y`) on a NIST curve.
fn point_len(curve: &str) -> Option<usize> {
    match curve {
        "nistp256" => Some(65),
        "nistp384" => Some(97),
        "nistp521" => Some(133),
        _ => None,
    }
}

fn check_key_data(key_type: &str, bytes: &[u8]) -> Result<(), String> {
    let mut r = Reader { rest: bytes, key_type };
    if r.string()? != key_type.as_bytes() {
        return Err(format!("key data does not hold a {key_type} key"));
    }
    match key_type {
        "ssh-rsa" => {
            let e = r.positive_mpint("public exponent")?;
            // machine-controller's parser takes exponents of at most 24 bits.
            if bit_length(e) > 24 || e.last().is_some_and(|b| b & 1 == 0) || e == [1] {
                return Err("ssh-rsa key has an invalid public exponent".to_owned());
            }
            let n = r.positive_mpint("modulus")?;
            let bits = bit_length(n);
            if bits < MIN_RSA_BITS {
                return Err(format!(
                    "ssh-rsa key has a {bits}-bit modulus; at least {MIN_RSA_BITS} bits are needed"
                ));
            }
        }
        "ssh-dss" => {
            for what in ["p", "q", "g", "y"] {
                r.positive_mpint(what)?;
            }
        }
        "ssh-ed25519" | "sk-ssh-ed25519@openssh.com" | "ssh-ed448" => {
            let want = if key_type == "ssh-ed448" { 57 } else { 32 };
            let key = r.string()?;
            if key.len() != want {
                return Err(format!("{key_type} key is {} bytes long, not {want}", key.len()));
            }
        }
        _ => {
            // ecdsa-sha2-<curve> and sk-ecdsa-sha2-nistp256@openssh.com: the curve, then the point.
            let expected = key_type
                .trim_start_matches("sk-")
                .trim_end_matches("@openssh.com")
                .trim_start_matches("ecdsa-sha2-");
            let curve = r.string()?;
            if curve != expected.as_bytes() {
                return Err(format!(
                    "{key_type} key names the curve {:?}, not {expected}",
                    String::from_utf8_lossy(curve)
                ));
            }
            let point = r.string()?;
            let want = point_len(expected).unwrap_or(0);
            if point.len() != want || point.first() != Some(&0x04) {
                return Err(format!("{key_type} key does not hold an uncompressed {expected} point"));
            }
        }
    }
    if key_type.starts_with("sk-") {
        // The FIDO application, `ssh:` by default.
        let application = r.string()?;
        if application.is_empty() || std::str::from_utf8(application).is_err() {
            return Err(format!("{key_type} key has no application"));
        }
    }
    r.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host";

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Wire-format strings, each length-prefixed.
    fn wire(fields: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for f in fields {
            out.extend_from_slice(&u32::try_from(f.len()).unwrap().to_be_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    fn line(key_type: &str, blob: &[u8]) -> String {
        format!("{key_type} {} test@example", b64(blob))
    }

    fn rsa_modulus(bits: usize) -> Vec<u8> {
        // A leading zero keeps the mpint positive; the next byte has its top bit set.
        let mut n = vec![0u8; bits / 8 + 1];
        n[1] = 0xc5;
        *n.last_mut().unwrap() = 0x01;
        n
    }

    fn point(len: usize) -> Vec<u8> {
        let mut p = vec![0x42u8; len];
        p[0] = 0x04;
        p
    }

    #[test]
    fn accepts_real_keys() {
        assert_eq!(parse_authorized_key(ED25519), Ok("ssh-ed25519"));
        assert_eq!(parse_authorized_key(&format!("no-pty {ED25519}")), Ok("ssh-ed25519"));
        let generated = [
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCUJdVYhIs1Rc0U6T7DgRx3SMMvc52WsPBs9oM51DtI2MsrAYOd6CLI0JN2CFlwzBJHeYZBZviiepGcY17OvB1QSQG8N2tmNRoYQ9NYpyjfVh78PIGiVfrP+PjxSYfcnTFSEdyfzA77P1yuQenGPaRToSFtqXscsQSpJn11jE2J7I2qokoya7lC7vJ/acX40QPgIIR4+RdvhTzr+EYqARU2bIM5NGsY5GtUJheelMVx9QslPW5O5dkyphdlG3l+uRBnO15ln3jqZ4WAmJgb3ZAC3FXEbrpSV/bhjD/xIHw1AkMpPuD/eArmuti564msq3E859fkOahRGSneeXfubU4h bob@example",
            "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBE6siyifD1Mvzv7ZlPvqqfK7aMDmUonA966kKYgF1b2fgcTay9ZladMZuvmtLDbQRQpKrXgWhsvw8tj4jFNGm9E= bob@example",
            "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAEoix0bt8XcUndJWvWM2qpVzbWK/RqJ7AA59ieyml5GzHH0tZt8U1Zqesl51mc8FCL20wBq1xAVdsHfRPS0616SmAAqueYH2VtmHwRTSHzRVSETi7VmejSdb6dS1LyNhq0hj9QJrCXl21JNqzUKYJSXTJWH07DvLuWWuFYQHT69yCHTcQ== bob@example",
            "ssh-dss AAAAB3NzaC1kc3MAAACBAOLhw9BrIc+3PODjgRB8dSQiEkyQIdsogHDwRR4gmVKtXt3FDZ45NNj7jxpMVqUMIn1qxap4UioaFsTxdOdhvv2cVCs2U9BDgu+AKHbbq5GI30G2KxsjjWUAg6/0VTJ647zeLhMYwSqiv9CUH+gi60V53cYPM7PCzMwvK5MTJ9D9AAAAFQD+zz2K1lKz/Fq72kihEggYeC9TfwAAAIEAgrjjpJWfmJur0+frv1V1PAu1KevKR7Sh0r+kvne95yEk/8KhVPimdr4amGO6swHV29hSo6m66Gr8UotEjNtPa6PaiFZNkWTa40cR2chuM1nxVdu3Y5OVAxi5EGP2vJVPv0Q8yjVMzv+wDyxOYZoJm5FFIyXWHnshaEMOhRj0d6YAAACBAJmCjFvab4GDzPFHQFC0nhfnFd6IT54WTgWMea9v+sIXhUwtEhyfwSb6d0BOwVYVf3iokLrBDLhmciNHHJMJmygbxKNloA+Mep8Axv3YA5iscHyO3vhstEeEylSaex2sV37mVHLlWbMKt56ejI84Gf/ngTqT5LBgxCpMYaaUvE3q bob@example",
        ];
        for key in generated {
            let key_type = key.split(' ').next().unwrap();
            assert_eq!(parse_authorized_key(key), Ok(key_type), "{key}");
        }
    }

    #[test]
    fn accepts_well_formed_blobs_of_every_type() {
        let rsa = wire(&[b"ssh-rsa", &[0x01, 0x00, 0x01], &rsa_modulus(2048)]);
        assert_eq!(parse_authorized_key(&line("ssh-rsa", &rsa)), Ok("ssh-rsa"));
        let dss = wire(&[b"ssh-dss", &[0x7f; 128], &[0x11; 20], &[0x22; 128], &[0x33; 128]]);
        assert_eq!(parse_authorized_key(&line("ssh-dss", &dss)), Ok("ssh-dss"));
        for (curve, len) in [("nistp256", 65), ("nistp384", 97), ("nistp521", 133)] {
            let key_type = format!("ecdsa-sha2-{curve}");
            let blob = wire(&[key_type.as_bytes(), curve.as_bytes(), &point(len)]);
            assert_eq!(parse_authorized_key(&line(&key_type, &blob)), Ok(key_type.as_str()));
        }
        let sk_ed = wire(&[b"sk-ssh-ed25519@openssh.com", &[7; 32], b"ssh:"]);
        assert_eq!(
            parse_authorized_key(&line("sk-ssh-ed25519@openssh.com", &sk_ed)),
            Ok("sk-ssh-ed25519@openssh.com")
        );
        let sk_ec = wire(&[b"sk-ecdsa-sha2-nistp256@openssh.com", b"nistp256", &point(65), b"ssh:"]);
        assert_eq!(
            parse_authorized_key(&line("sk-ecdsa-sha2-nistp256@openssh.com", &sk_ec)),
            Ok("sk-ecdsa-sha2-nistp256@openssh.com")
        );
        let ed448 = wire(&[b"ssh-ed448", &[9; 57]]);
        assert_eq!(parse_authorized_key(&line("ssh-ed448", &ed448)), Ok("ssh-ed448"));
    }

    #[test]
    fn rejects_placeholders_and_garbage() {
        assert!(
            parse_authorized_key("<< YOUR_PUBLIC_KEY >>")
                .unwrap_err()
                .contains("no known key type")
        );
        assert_eq!(
            parse_authorized_key("ssh-rsa").unwrap_err(),
            "ssh-rsa key has no key data"
        );
        assert_eq!(
            parse_authorized_key("ssh-rsa !!!").unwrap_err(),
            "ssh-rsa key data is not valid base64"
        );
    }

    #[test]
    fn rejects_a_wrong_inner_type() {
        assert_eq!(
            parse_authorized_key("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
                .unwrap_err(),
            "key data does not hold a ssh-rsa key"
        );
        let ecdsa = wire(&[b"ecdsa-sha2-nistp256", b"nistp384", &point(97)]);
        assert_eq!(
            parse_authorized_key(&line("ecdsa-sha2-nistp256", &ecdsa)).unwrap_err(),
            "ecdsa-sha2-nistp256 key names the curve \"nistp384\", not nistp256"
        );
    }

    #[test]
    fn rejects_a_type_without_key_material() {
        assert_eq!(
            parse_authorized_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5").unwrap_err(),
            "ssh-ed25519 key data is truncated"
        );
        let empty_rsa = wire(&[b"ssh-rsa"]);
        assert_eq!(
            parse_authorized_key(&line("ssh-rsa", &empty_rsa)).unwrap_err(),
            "ssh-rsa key data is truncated"
        );
    }

    #[test]
    fn rejects_truncated_keys() {
        let full = base64::engine::general_purpose::STANDARD
            .decode("AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
            .unwrap();
        for cut in [1, 5, 20, full.len() - 1] {
            assert_eq!(
                parse_authorized_key(&line("ssh-ed25519", &full[..full.len() - cut])).unwrap_err(),
                "ssh-ed25519 key data is truncated",
                "cut {cut}"
            );
        }
        let mut rsa = wire(&[b"ssh-rsa", &[0x01, 0x00, 0x01], &rsa_modulus(2048)]);
        rsa.truncate(rsa.len() - 10);
        assert_eq!(
            parse_authorized_key(&line("ssh-rsa", &rsa)).unwrap_err(),
            "ssh-rsa key data is truncated"
        );
        let sk = wire(&[b"sk-ssh-ed25519@openssh.com", &[7; 32]]);
        assert_eq!(
            parse_authorized_key(&line("sk-ssh-ed25519@openssh.com", &sk)).unwrap_err(),
            "sk-ssh-ed25519@openssh.com key data is truncated"
        );
    }

    #[test]
    fn rejects_trailing_garbage() {
        let mut ed = base64::engine::general_purpose::STANDARD
            .decode("AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
            .unwrap();
        ed.extend_from_slice(b"xyz");
        assert_eq!(
            parse_authorized_key(&line("ssh-ed25519", &ed)).unwrap_err(),
            "ssh-ed25519 key data has 3 unexpected trailing bytes"
        );
        let mut rsa = wire(&[b"ssh-rsa", &[0x01, 0x00, 0x01], &rsa_modulus(2048)]);
        rsa.push(0);
        assert_eq!(
            parse_authorized_key(&line("ssh-rsa", &rsa)).unwrap_err(),
            "ssh-rsa key data has 1 unexpected trailing bytes"
        );
    }

    #[test]
    fn rejects_malformed_key_material() {
        let short = wire(&[b"ssh-ed25519", &[1; 31]]);
        assert_eq!(
            parse_authorized_key(&line("ssh-ed25519", &short)).unwrap_err(),
            "ssh-ed25519 key is 31 bytes long, not 32"
        );
        let small = wire(&[b"ssh-rsa", &[0x01, 0x00, 0x01], &rsa_modulus(512)]);
        assert_eq!(
            parse_authorized_key(&line("ssh-rsa", &small)).unwrap_err(),
            "ssh-rsa key has a 512-bit modulus; at least 1024 bits are needed"
        );
        let negative = wire(&[b"ssh-rsa", &[0x01, 0x00, 0x01], &rsa_modulus(2048)[1..]]);
        assert_eq!(
            parse_authorized_key(&line("ssh-rsa", &negative)).unwrap_err(),
            "ssh-rsa key modulus is negative"
        );
        let even = wire(&[b"ssh-rsa", &[0x01, 0x00, 0x02], &rsa_modulus(2048)]);
        assert_eq!(
            parse_authorized_key(&line("ssh-rsa", &even)).unwrap_err(),
            "ssh-rsa key has an invalid public exponent"
        );
        let compressed = wire(&[b"ecdsa-sha2-nistp256", b"nistp256", &[0x02; 33]]);
        assert_eq!(
            parse_authorized_key(&line("ecdsa-sha2-nistp256", &compressed)).unwrap_err(),
            "ecdsa-sha2-nistp256 key does not hold an uncompressed nistp256 point"
        );
        let no_app = wire(&[b"sk-ssh-ed25519@openssh.com", &[7; 32], b""]);
        assert_eq!(
            parse_authorized_key(&line("sk-ssh-ed25519@openssh.com", &no_app)).unwrap_err(),
            "sk-ssh-ed25519@openssh.com key has no application"
        );
    }
}
