//! What `install --dry-run=client` prints of Secrets: private keys are replaced by a placeholder
//! unless `--show-secrets` asks for them, so that a reviewed or shared dry run never carries the
//! webhook's serving key.

use base64::Engine as _;
use serde_json::Value;

/// What a private key is printed as.
pub const PLACEHOLDER: &str = "<redacted: private key, use --show-secrets to print>";

/// Replaces every private key in the Secrets among `objects` (a `data` or `stringData` entry whose
/// name ends in `.key` or whose text holds a PEM private key) with [`PLACEHOLDER`]. Returns what
/// was replaced, one entry per Secret, as `kkp-system/kkp-webhook-tls (tls.key, ca.key)`.
pub fn private_keys(objects: &mut [Value]) -> Vec<String> {
    let mut replaced = Vec::new();
    for object in objects.iter_mut().filter(|o| o["kind"] == "Secret") {
        let name = format!(
            "{}/{}",
            object["metadata"]["namespace"].as_str().unwrap_or("default"),
            object["metadata"]["name"].as_str().unwrap_or("<unnamed>")
        );
        let mut keys = Vec::new();
        for (field, encoded) in [("data", true), ("stringData", false)] {
            let Some(entries) = object.get_mut(field).and_then(Value::as_object_mut) else {
                continue;
            };
            for (key, value) in entries.iter_mut() {
                if is_private_key(key, value, encoded) {
                    *value = Value::from(PLACEHOLDER);
                    keys.push(key.clone());
                }
            }
        }
        if !keys.is_empty() {
            replaced.push(format!("{name} ({})", keys.join(", ")));
        }
    }
    replaced
}

fn is_private_key(key: &str, value: &Value, encoded: bool) -> bool {
    if key.ends_with(".key") {
        return true;
    }
    let Some(text) = value.as_str() else { return false };
    let decoded = if encoded {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    } else {
        text.to_owned()
    };
    decoded.contains("PRIVATE KEY-----")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn keys_are_replaced_and_certificates_kept() {
        let key = "-----BEGIN PRIVATE KEY-----\nMC4C\n-----END PRIVATE KEY-----\n";
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let mut objects = vec![
            json!({"kind": "Secret", "metadata": {"name": "tls", "namespace": "ns"},
                   "data": {"tls.crt": b64(cert), "tls.key": b64(key), "ca.crt": b64(cert)}}),
            json!({"kind": "Secret", "metadata": {"name": "other"},
                   "data": {"signing": b64(&key.replace("PRIVATE", "EC PRIVATE"))},
                   "stringData": {"pem": key, "note": "hello"}}),
            json!({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"tls.key": "not a secret's"}}),
        ];
        let replaced = private_keys(&mut objects);
        assert_eq!(replaced, ["ns/tls (tls.key)", "default/other (signing, pem)"]);
        assert_eq!(objects[0]["data"]["tls.key"], PLACEHOLDER);
        assert_eq!(objects[0]["data"]["tls.crt"], b64(cert).as_str());
        assert_eq!(objects[1]["data"]["signing"], PLACEHOLDER);
        assert_eq!(objects[1]["stringData"]["pem"], PLACEHOLDER);
        assert_eq!(objects[1]["stringData"]["note"], "hello");
        assert_eq!(objects[2]["data"]["tls.key"], "not a secret's");
        assert!(!serde_json::to_string(&objects).expect("json").contains(&b64(key)));
    }
}
