//! The webhook's serving certificate when cert-manager does not provide one: a CA and a serving
//! certificate for the webhook Service's DNS names, made with rcgen, and the check whether the
//! ones already installed can be kept (so re-running `install` changes nothing).
//!
//! The CA's key goes into the Secret too (`ca.key`): the webhook renews its serving certificate
//! from it before it runs out, so the CA (and with it the caBundle) is what has to last. CA
//! bundles (several PEM certificates in one) trust the old and the new CA during a rotation.

use kkp_manifests::SERVICE_DNS_NAMES;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// How long a generated CA is valid.
pub const CA_VALIDITY_DAYS: i64 = 3650;
/// How long a generated serving certificate is valid.
pub const SERVING_VALIDITY_DAYS: i64 = 365;
/// Certificates expiring sooner than this are replaced on the next install.
pub const RENEW_BEFORE_DAYS: i64 = 30;

/// PEM texts of a CA, a serving certificate signed by it, and the serving key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServingCerts {
    pub ca_pem: String,
    /// The CA's private key; empty when an older install did not keep it.
    pub ca_key_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

/// A fresh CA and a serving certificate for the webhook Service.
pub fn generate() -> Result<ServingCerts, rcgen::Error> {
    let now = time::OffsetDateTime::now_utc();
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    // A name of its own per CA, so the old and the new one tell apart in a bundle and in logs.
    ca.distinguished_name
        .push(DnType::CommonName, format!("kkp-webhook-ca-{}", now.unix_timestamp()));
    ca.distinguished_name.push(DnType::OrganizationName, "kubectl-kkp");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = now - time::Duration::hours(1);
    ca.not_after = now + time::Duration::days(CA_VALIDITY_DAYS);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca, ca_key);

    let mut serving = CertificateParams::new(SERVICE_DNS_NAMES.map(str::to_owned).to_vec())?;
    serving
        .distinguished_name
        .push(DnType::CommonName, SERVICE_DNS_NAMES[0]);
    serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    serving.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    serving.not_before = now - time::Duration::hours(1);
    serving.not_after = now + time::Duration::days(SERVING_VALIDITY_DAYS);
    let key = KeyPair::generate()?;
    let cert = serving.signed_by(&key, &issuer)?;
    Ok(ServingCerts {
        ca_pem: ca_cert.pem(),
        ca_key_pem,
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Why installed certificates cannot be kept, or `None` when they can: both parse, the serving
/// certificate names every Service DNS name, and neither expires within [`RENEW_BEFORE_DAYS`].
pub fn why_not_reusable(certs: &ServingCerts, now: i64) -> Option<String> {
    let limit = now + RENEW_BEFORE_DAYS * 86_400;
    let parsed = |pem: &str, what: &str| -> Result<(i64, Vec<String>), String> {
        let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| format!("{what}: {e}"))?;
        let cert = pem.parse_x509().map_err(|e| format!("{what}: {e}"))?;
        let not_after = cert.validity().not_after.timestamp();
        let names = match cert.subject_alternative_name() {
            Ok(Some(ext)) => ext
                .value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_owned()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok((not_after, names))
    };
    let (ca_expiry, _) = match parsed(&certs.ca_pem, "the CA") {
        Ok(p) => p,
        Err(e) => return Some(format!("{e} does not parse")),
    };
    let (expiry, names) = match parsed(&certs.cert_pem, "the serving certificate") {
        Ok(p) => p,
        Err(e) => return Some(format!("{e} does not parse")),
    };
    if ca_expiry < limit || expiry < limit {
        return Some(format!("it expires within {RENEW_BEFORE_DAYS} days"));
    }
    if let Some(missing) = SERVICE_DNS_NAMES.iter().find(|n| !names.iter().any(|m| m == *n)) {
        return Some(format!("it is not valid for {missing}"));
    }
    if KeyPair::from_pem(&certs.key_pem).is_err() {
        return Some("its key does not parse".to_owned());
    }
    if certs.ca_key_pem.trim().is_empty() {
        return Some("the Secret has no CA key (ca.key), which the webhook needs to renew its certificate".to_owned());
    }
    if !key_belongs_to(&certs.ca_key_pem, &certs.ca_pem) {
        return Some("its CA key (ca.key) does not belong to its CA".to_owned());
    }
    None
}

/// Whether the PEM private key `key_pem` is the key of the first certificate in `cert_pem`.
fn key_belongs_to(key_pem: &str, cert_pem: &str) -> bool {
    use rcgen::PublicKeyData as _;
    let Ok(key) = KeyPair::from_pem(key_pem) else {
        return false;
    };
    let Ok((_, pem)) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()) else {
        return false;
    };
    let Ok(cert) = pem.parse_x509() else {
        return false;
    };
    cert.public_key().raw == key.subject_public_key_info().as_slice()
}

/// The DER of each certificate in a PEM bundle, in order; what does not parse is left out.
pub fn bundle_ders(pem: &str) -> Vec<Vec<u8>> {
    x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes())
        .filter_map(Result::ok)
        .filter(|p| p.label == "CERTIFICATE")
        .map(|p| p.contents)
        .collect()
}

/// One PEM bundle of the certificates of `bundles`, each once, in the order first seen.
pub fn concat_bundles<'a>(bundles: impl IntoIterator<Item = &'a str>) -> String {
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for bundle in bundles {
        for der in bundle_ders(bundle) {
            if !seen.contains(&der) {
                seen.push(der);
            }
        }
    }
    seen.iter().map(|der| pem_of(der)).collect()
}

/// A certificate's DER as PEM.
pub fn pem_of(der: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// When the serving certificate expires, in unix seconds.
pub fn not_after(cert_pem: &str) -> Option<i64> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()).ok()?;
    let cert = pem.parse_x509().ok()?;
    Some(cert.validity().not_after.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn generated_certificates_name_the_service_and_are_reusable() {
        let certs = generate().expect("generate");
        assert!(certs.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(certs.key_pem.contains("PRIVATE KEY"));
        assert_eq!(why_not_reusable(&certs, now()), None);
        let (_, pem) = x509_parser::pem::parse_x509_pem(certs.cert_pem.as_bytes()).expect("pem");
        let cert = pem.parse_x509().expect("x509");
        let (_, ca_pem) = x509_parser::pem::parse_x509_pem(certs.ca_pem.as_bytes()).expect("pem");
        let ca = ca_pem.parse_x509().expect("x509");
        assert_eq!(cert.issuer(), ca.subject(), "signed by the CA");
        assert!(ca.is_ca());
        assert!(
            key_belongs_to(&certs.ca_key_pem, &certs.ca_pem),
            "ca.key is the CA's key"
        );
        assert!(!key_belongs_to(&certs.key_pem, &certs.ca_pem));
    }

    #[test]
    fn installs_without_a_ca_key_are_replaced() {
        let certs = generate().expect("generate");
        let old = ServingCerts {
            ca_key_pem: String::new(),
            ..certs.clone()
        };
        assert!(why_not_reusable(&old, now()).expect("no CA key").contains("ca.key"));
        let other = ServingCerts {
            ca_key_pem: certs.key_pem.clone(),
            ..certs
        };
        assert!(
            why_not_reusable(&other, now())
                .expect("wrong CA key")
                .contains("does not belong")
        );
    }

    #[test]
    fn bundles_concatenate_distinct_certificates_in_order() {
        let (a, b) = (generate().expect("a"), generate().expect("b"));
        let both = concat_bundles([a.ca_pem.as_str(), b.ca_pem.as_str()]);
        assert_eq!(
            bundle_ders(&both),
            [bundle_ders(&a.ca_pem)[0].clone(), bundle_ders(&b.ca_pem)[0].clone()]
        );
        // Concatenating again (a re-run) adds nothing twice.
        let again = concat_bundles([both.as_str(), a.ca_pem.as_str(), b.ca_pem.as_str()]);
        assert_eq!(again, both);
        // One certificate comes back as the same PEM text rcgen wrote.
        assert_eq!(concat_bundles([a.ca_pem.as_str()]), a.ca_pem.replace("\r\n", "\n"));
        assert!(bundle_ders("not PEM").is_empty());
        assert!(not_after(&a.cert_pem).is_some_and(|t| t > now()));
    }

    #[test]
    fn expiring_broken_or_misnamed_certificates_are_replaced() {
        let certs = generate().expect("generate");
        let far = now() + (SERVING_VALIDITY_DAYS + 1) * 86_400;
        assert!(why_not_reusable(&certs, far).expect("expired").contains("expires"));
        let broken = ServingCerts {
            cert_pem: "not a certificate".into(),
            ..certs.clone()
        };
        assert!(
            why_not_reusable(&broken, now())
                .expect("broken")
                .contains("does not parse")
        );
        let other = ServingCerts {
            cert_pem: certs.ca_pem.clone(),
            ..certs
        };
        assert!(
            why_not_reusable(&other, now())
                .expect("misnamed")
                .contains("not valid for")
        );
    }
}
