//! Parsing of `authorized_keys` lines, as machine-controller requires of every sshPublicKey.

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
    // The blob starts with the key type as a length-prefixed string.
    let inner = bytes
        .get(..4)
        .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize)
        .and_then(|len| bytes.get(4..4 + len))
        .ok_or_else(|| format!("{key_type} key data is truncated"))?;
    if inner != key_type.as_bytes() {
        return Err(format!("key data does not hold a {key_type} key"));
    }
    Ok(key_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host";

    #[test]
    fn accepts_real_keys() {
        assert_eq!(parse_authorized_key(ED25519), Ok("ssh-ed25519"));
        assert_eq!(parse_authorized_key(&format!("no-pty {ED25519}")), Ok("ssh-ed25519"));
    }

    #[test]
    fn rejects_placeholders_and_garbage() {
        assert!(
            parse_authorized_key("<< YOUR_PUBLIC_KEY >>")
                .unwrap_err()
                .contains("no known key type")
        );
        assert_eq!(
            parse_authorized_key("ssh-rsa !!!").unwrap_err(),
            "ssh-rsa key data is not valid base64"
        );
        assert_eq!(
            parse_authorized_key("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
                .unwrap_err(),
            "key data does not hold a ssh-rsa key"
        );
    }
}
