//! Certificates for one control plane, made with rcgen (ECDSA P-256): a serving CA and the
//! kube-apiserver serving certificate, a client CA and the admin client certificate, and the
//! service-account signing key pair. Everything lives in memory; the control plane writes
//! the PEM files it needs.

use std::net::{IpAddr, Ipv4Addr};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType,
};
use time::{Duration, OffsetDateTime};

use crate::error::HarnessError;

/// The ClusterIP of the `kubernetes` Service in the `10.0.0.0/24` service range the
/// apiserver is started with; in-cluster clients reach the apiserver under it.
pub const SERVICE_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// The group that Kubernetes treats as cluster admin, whatever RBAC says.
pub const MASTERS_GROUP: &str = "system:masters";

/// The object identifier of the X.509 `organizationName` attribute (2.5.4.10).
const ORGANIZATION_OID: [u64; 4] = [2, 5, 4, 10];

/// rcgen keeps one value per attribute type in a subject, and Kubernetes reads groups from
/// the `O` values, so a second group is written under the same OID spelled as a custom type.
pub const MAX_GROUPS: usize = 2;

/// A certificate with its private key, both PEM and DER.
#[derive(Clone)]
pub struct KeyAndCert {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: Vec<u8>,
    /// The PKCS#8 DER of the private key.
    pub key_der: Vec<u8>,
}

impl std::fmt::Debug for KeyAndCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyAndCert")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}

/// A certificate authority that can issue serving and client certificates.
pub struct CertificateAuthority {
    params: CertificateParams,
    key: KeyPair,
    cert: KeyAndCert,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("cert", &self.cert)
            .finish_non_exhaustive()
    }
}

fn new_key(what: &str) -> Result<KeyPair, HarnessError> {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| HarnessError::pki(format!("the key of {what}"), e))
}

/// Validity from an hour ago (clock skew) to a year from now.
fn validity(params: &mut CertificateParams) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(365);
}

impl CertificateAuthority {
    /// A new self-signed CA whose subject is `CN=<common_name>, O=kkp-e2e`.
    pub fn new(common_name: &str) -> Result<Self, HarnessError> {
        let key = new_key(common_name)?;
        let mut params = CertificateParams::default();
        validity(&mut params);
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        dn.push(DnType::OrganizationName, "kkp-e2e");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params
            .self_signed(&key)
            .map_err(|e| HarnessError::pki(format!("the CA certificate {common_name}"), e))?;
        let cert = KeyAndCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        };
        Ok(Self { params, key, cert })
    }

    /// The CA certificate and key.
    pub fn cert(&self) -> &KeyAndCert {
        &self.cert
    }

    fn sign(&self, what: &str, params: CertificateParams) -> Result<KeyAndCert, HarnessError> {
        let key = new_key(what)?;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params
            .signed_by(&key, &issuer)
            .map_err(|e| HarnessError::pki(what.to_string(), e))?;
        Ok(KeyAndCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        })
    }

    /// A TLS serving certificate for the given DNS names and IP addresses.
    pub fn issue_serving(
        &self,
        common_name: &str,
        dns_names: &[&str],
        ips: &[IpAddr],
    ) -> Result<KeyAndCert, HarnessError> {
        let what = format!("the serving certificate {common_name}");
        let mut params = CertificateParams::default();
        validity(&mut params);
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        for name in dns_names {
            let name = (*name)
                .to_string()
                .try_into()
                .map_err(|e| HarnessError::pki(what.clone(), e))?;
            params.subject_alt_names.push(SanType::DnsName(name));
        }
        params
            .subject_alt_names
            .extend(ips.iter().copied().map(SanType::IpAddress));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        self.sign(&what, params)
    }

    /// A client certificate for Kubernetes user `user` in up to [`MAX_GROUPS`] groups
    /// (CN = user, one O per group).
    pub fn issue_client(&self, user: &str, groups: &[&str]) -> Result<KeyAndCert, HarnessError> {
        let what = format!("the client certificate of {user}");
        if groups.len() > MAX_GROUPS {
            return Err(HarnessError::InvalidInput(format!(
                "{what}: a client certificate carries at most {MAX_GROUPS} groups, got {}",
                groups.len()
            )));
        }
        let mut params = CertificateParams::default();
        validity(&mut params);
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, user);
        if let Some(first) = groups.first() {
            dn.push(DnType::OrganizationName, *first);
        }
        if let Some(second) = groups.get(1) {
            dn.push(DnType::CustomDnType(ORGANIZATION_OID.to_vec()), *second);
        }
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        self.sign(&what, params)
    }
}

/// The service-account token signing key pair (PKCS#8 private key, SubjectPublicKeyInfo public key).
#[derive(Clone)]
pub struct ServiceAccountKeys {
    pub private_key_pem: String,
    pub public_key_pem: String,
}

impl std::fmt::Debug for ServiceAccountKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKeys")
            .field("public_key_pem", &self.public_key_pem)
            .finish_non_exhaustive()
    }
}

/// Everything one control plane needs.
#[derive(Debug)]
pub struct Pki {
    /// Signs the apiserver serving certificate; clients trust it.
    pub serving_ca: CertificateAuthority,
    /// The kube-apiserver serving certificate (SANs 127.0.0.1, localhost, the service IP).
    pub apiserver: KeyAndCert,
    /// The apiserver's `--client-ca-file`; signs every client certificate.
    pub client_ca: CertificateAuthority,
    /// CN=admin, O=system:masters.
    pub admin: KeyAndCert,
    pub service_account: ServiceAccountKeys,
}

impl Pki {
    pub fn generate() -> Result<Self, HarnessError> {
        let serving_ca = CertificateAuthority::new("kkp-e2e-serving-ca")?;
        let apiserver = serving_ca.issue_serving(
            "kube-apiserver",
            &[
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
            ],
            &[IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V4(SERVICE_IP)],
        )?;
        let client_ca = CertificateAuthority::new("kkp-e2e-client-ca")?;
        let admin = client_ca.issue_client("admin", &[MASTERS_GROUP])?;
        let sa_key = new_key("the service-account signer")?;
        let service_account = ServiceAccountKeys {
            private_key_pem: sa_key.serialize_pem(),
            public_key_pem: sa_key.public_key_pem(),
        };
        Ok(Self {
            serving_ca,
            apiserver,
            client_ca,
            admin,
            service_account,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::extensions::GeneralName;
    use x509_parser::prelude::{FromDer, X509Certificate};

    fn parse(der: &[u8]) -> X509Certificate<'_> {
        let (rest, cert) = X509Certificate::from_der(der).expect("certificate parses");
        assert!(rest.is_empty());
        cert
    }

    fn common_name(cert: &X509Certificate<'_>) -> String {
        cert.subject()
            .iter_common_name()
            .map(|cn| cn.as_str().expect("utf-8 CN").to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    fn organizations(cert: &X509Certificate<'_>) -> Vec<String> {
        cert.subject()
            .iter_organization()
            .map(|o| o.as_str().expect("utf-8 O").to_string())
            .collect()
    }

    #[test]
    fn apiserver_certificate_carries_the_sans_and_is_signed_by_the_serving_ca() {
        let pki = Pki::generate().expect("pki");
        let cert = parse(&pki.apiserver.cert_der);
        let ca = parse(&pki.serving_ca.cert().cert_der);
        let san = cert
            .subject_alternative_name()
            .expect("SAN extension well formed")
            .expect("SAN extension present");
        let mut dns = Vec::new();
        let mut ips = Vec::new();
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(ip) => ips.push(ip.to_vec()),
                other => panic!("unexpected SAN {other:?}"),
            }
        }
        assert!(dns.contains(&"localhost".to_string()), "{dns:?}");
        assert!(ips.contains(&vec![127, 0, 0, 1]), "{ips:?}");
        assert!(ips.contains(&vec![10, 0, 0, 1]), "{ips:?}");
        assert_eq!(cert.issuer(), ca.subject());
        cert.verify_signature(Some(ca.public_key()))
            .expect("signed by the serving CA");
        assert!(!cert.is_ca());
        assert!(ca.is_ca());
        assert!(cert.validity().is_valid());
    }

    #[test]
    fn admin_certificate_is_cn_admin_in_system_masters() {
        let pki = Pki::generate().expect("pki");
        let cert = parse(&pki.admin.cert_der);
        let ca = parse(&pki.client_ca.cert().cert_der);
        assert_eq!(common_name(&cert), "admin");
        assert_eq!(organizations(&cert), vec![MASTERS_GROUP.to_string()]);
        cert.verify_signature(Some(ca.public_key()))
            .expect("signed by the client CA");
        let eku = cert
            .extended_key_usage()
            .expect("EKU well formed")
            .expect("EKU present");
        assert!(eku.value.client_auth);
        assert!(!eku.value.server_auth);
    }

    #[test]
    fn client_certificates_carry_two_groups_and_refuse_more() {
        let ca = CertificateAuthority::new("test-ca").expect("ca");
        let cert = ca.issue_client("alice", &["dev", "ops"]).expect("cert");
        let parsed = parse(&cert.cert_der);
        assert_eq!(common_name(&parsed), "alice");
        assert_eq!(organizations(&parsed), vec!["dev".to_string(), "ops".to_string()]);
        let none = ca.issue_client("bob", &[]).expect("cert without groups");
        assert!(organizations(&parse(&none.cert_der)).is_empty());
        assert!(ca.issue_client("carol", &["a", "b", "c"]).is_err());
    }

    #[test]
    fn keys_are_pem_encoded_ecdsa() {
        let pki = Pki::generate().expect("pki");
        assert!(pki.admin.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(
            pki.service_account
                .private_key_pem
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        assert!(
            pki.service_account
                .public_key_pem
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        let cert = parse(&pki.admin.cert_der);
        // id-ecPublicKey
        assert_eq!(
            cert.public_key().algorithm.algorithm.to_id_string(),
            "1.2.840.10045.2.1"
        );
    }
}
