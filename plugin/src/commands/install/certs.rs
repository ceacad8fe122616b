//! The webhook's serving certificate when cert-manager does not provide one: a CA and a serving
//! certificate for the webhook Service's DNS names, made with rcgen, and the check whether the
//! ones already installed can be kept (so re-running `install` changes nothing).

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
    pub cert_pem: String,
    pub key_pem: String,
}

/// A fresh CA and a serving certificate for the webhook Service.
pub fn generate() -> Result<ServingCerts, rcgen::Error> {
    let now = time::OffsetDateTime::now_utc();
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name.push(DnType::CommonName, "kkp-webhook-ca");
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
    None
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
