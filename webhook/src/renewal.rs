//! Self-renewal of the serving certificate: given the CA that issued it (`--ca-cert-file`,
//! `--ca-key-file`), the webhook issues itself a fresh certificate with the same names before the
//! one it serves runs out, and serves it from memory.
//!
//! The CA stays the same, so the webhook configurations' caBundle stays valid and nothing outside
//! the pod changes; each replica renews on its own. The trade-off: the CA's key is in the pod. It
//! can only mint certificates that this webhook's caBundle trusts (the CA is generated for the
//! webhook alone), so whoever can read the Secret could impersonate the webhook, and no more than
//! whoever can read `tls.key` already can until that certificate expires.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair, KeyUsagePurpose, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

use crate::duration::parse_duration;

/// How long a certificate the webhook issues itself is valid, unless `--renewed-certificate-validity`
/// says otherwise: 90 days.
pub const DEFAULT_RENEWED_VALIDITY: Duration = Duration::from_secs(90 * 86_400);
/// Below this much time left, the served certificate's expiry is logged as a warning.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 86_400);
/// Certificates the webhook issues start this long before now, for clocks that lag behind.
const BACKDATE: Duration = Duration::from_secs(5 * 60);

/// The flags of self-renewal.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct RenewalArgs {
    /// PEM file with the CA certificate that issued the serving certificate. With --ca-key-file, the
    /// webhook issues itself a new serving certificate (same names, signed by this CA) before the
    /// served one runs out, so the caBundle stays valid. A missing file turns renewal off (as with
    /// cert-manager, which renews the files itself).
    #[arg(long, env = "KKP_WEBHOOK_CA_CERT_FILE", requires = "ca_key_file")]
    pub ca_cert_file: Option<PathBuf>,

    /// PEM file with the private key of --ca-cert-file.
    #[arg(long, env = "KKP_WEBHOOK_CA_KEY_FILE", requires = "ca_cert_file")]
    pub ca_key_file: Option<PathBuf>,

    /// How long a serving certificate the webhook issues itself is valid (e.g. `2160h`).
    #[arg(long, env = "KKP_WEBHOOK_RENEWED_CERTIFICATE_VALIDITY", default_value = "2160h", value_parser = parse_duration)]
    pub renewed_certificate_validity: Duration,

    /// Renew when the served certificate has less than this left (e.g. `720h`). Default: a third of
    /// its lifetime. Must be shorter than --renewed-certificate-validity.
    #[arg(long, env = "KKP_WEBHOOK_RENEW_BEFORE", value_parser = parse_duration)]
    pub renew_before: Option<Duration>,
}

impl Default for RenewalArgs {
    fn default() -> Self {
        RenewalArgs {
            ca_cert_file: None,
            ca_key_file: None,
            renewed_certificate_validity: DEFAULT_RENEWED_VALIDITY,
            renew_before: None,
        }
    }
}

/// Why a certificate could not be renewed.
#[derive(Debug, thiserror::Error)]
pub enum RenewalError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{what} is not a usable X.509 certificate: {why}")]
    Certificate { what: String, why: String },
    #[error("the key in {path} cannot sign: {source}")]
    Key { path: PathBuf, source: rcgen::Error },
    #[error("the CA in {path} did not issue the served certificate; not renewing with it")]
    OtherIssuer { path: PathBuf },
    #[error("cannot issue the certificate: {0}")]
    Issue(#[from] rcgen::Error),
    #[error(
        "the CA in {path} expires at {ca_not_after}: a renewed certificate would not outlast the served one; rotate the CA"
    )]
    CaExpiring { path: PathBuf, ca_not_after: i64 },
    #[error("--renew-before ({renew_before:?}) must be shorter than --renewed-certificate-validity ({validity:?})")]
    Settings { renew_before: Duration, validity: Duration },
}

impl RenewalError {
    /// The CA files are simply not there: renewal is off, not broken.
    pub fn is_missing_file(&self) -> bool {
        matches!(self, RenewalError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// What self-renewal needs, checked: the CA files and the timing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Renewal {
    pub ca_cert_file: PathBuf,
    pub ca_key_file: PathBuf,
    pub validity: Duration,
    pub renew_before: Option<Duration>,
}

impl Renewal {
    /// The renewal the flags ask for, if any; refuses a --renew-before that every renewed
    /// certificate would be inside of at once.
    pub fn from_args(args: &RenewalArgs) -> Result<Option<Renewal>, RenewalError> {
        let (Some(ca_cert_file), Some(ca_key_file)) = (&args.ca_cert_file, &args.ca_key_file) else {
            return Ok(None);
        };
        if let Some(renew_before) = args.renew_before
            && renew_before >= args.renewed_certificate_validity
        {
            return Err(RenewalError::Settings {
                renew_before,
                validity: args.renewed_certificate_validity,
            });
        }
        Ok(Some(Renewal {
            ca_cert_file: ca_cert_file.clone(),
            ca_key_file: ca_key_file.clone(),
            validity: args.renewed_certificate_validity,
            renew_before: args.renew_before,
        }))
    }
}

/// A certificate's validity, in unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

impl Validity {
    /// The validity of a DER certificate.
    pub fn of(der: &[u8], what: &str) -> Result<Validity, RenewalError> {
        let cert = parse_der(der, what)?;
        Ok(Validity {
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
        })
    }

    /// Whether a certificate with this validity is due for renewal at `now`: less than
    /// `renew_before` left, or without it, less than a third of its lifetime.
    pub fn renewal_due(&self, now: i64, renew_before: Option<Duration>) -> bool {
        let threshold = match renew_before {
            Some(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            None => (self.not_after - self.not_before).max(0) / 3,
        };
        self.not_after.saturating_sub(now) < threshold
    }
}

fn parse_der<'a>(der: &'a [u8], what: &str) -> Result<X509Certificate<'a>, RenewalError> {
    X509Certificate::from_der(der)
        .map(|(_, cert)| cert)
        .map_err(|e| RenewalError::Certificate {
            what: what.to_owned(),
            why: e.to_string(),
        })
}

fn read_text(path: &Path) -> Result<String, RenewalError> {
    std::fs::read_to_string(path).map_err(|source| RenewalError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The CA's private key: PKCS#8, or PKCS#1 (RSA) as Helm's `genCA` writes it.
fn read_key(key_path: &Path) -> Result<KeyPair, RenewalError> {
    use rustls::pki_types::pem::PemObject;
    let unusable = |source| RenewalError::Key {
        path: key_path.to_owned(),
        source,
    };
    let pem = read_text(key_path)?;
    let der =
        PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| unusable(rcgen::Error::CouldNotParseKeyPair))?;
    let pkcs8 = crate::pkcs8::to_pkcs8(&der).ok_or_else(|| unusable(rcgen::Error::CouldNotParseKeyPair))?;
    KeyPair::try_from(&pkcs8).map_err(unusable)
}

/// A CA read from its PEM files.
#[derive(Debug)]
pub struct Ca {
    path: PathBuf,
    cert_der: Vec<u8>,
    key: KeyPair,
}

impl Ca {
    /// Reads the CA certificate (the first in the file) and its key.
    pub fn read(cert_path: &Path, key_path: &Path) -> Result<Ca, RenewalError> {
        use rustls::pki_types::pem::PemObject;
        let cert_pem = read_text(cert_path)?;
        let cert_der = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .next()
            .ok_or_else(|| RenewalError::Certificate {
                what: cert_path.display().to_string(),
                why: "no PEM certificate in it".to_owned(),
            })?
            .map_err(|e| RenewalError::Certificate {
                what: cert_path.display().to_string(),
                why: e.to_string(),
            })?
            .to_vec();
        parse_der(&cert_der, &cert_path.display().to_string())?;
        let key = read_key(key_path)?;
        Ok(Ca {
            path: cert_path.to_owned(),
            cert_der,
            key,
        })
    }

    /// Whether this CA issued `leaf_der`: its subject is the leaf's issuer and its key verifies
    /// the leaf's signature.
    pub fn issued(&self, leaf_der: &[u8]) -> bool {
        let (Ok(ca), Ok(leaf)) = (parse_der(&self.cert_der, "the CA"), parse_der(leaf_der, "the leaf")) else {
            return false;
        };
        leaf.issuer().as_raw() == ca.subject().as_raw() && leaf.verify_signature(Some(ca.public_key())).is_ok()
    }

    /// When the CA expires, in unix seconds.
    pub fn not_after(&self) -> Result<i64, RenewalError> {
        Validity::of(&self.cert_der, "the CA").map(|v| v.not_after)
    }
}

/// A certificate the webhook issued itself.
#[derive(Debug)]
pub struct Issued {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub validity: Validity,
}

/// Issues a certificate like `template_der` (the same common name, DNS names and IP addresses,
/// for serving), signed by `ca`, valid from a little before `now` for `validity` but not past the
/// CA. The result is checked: `ca` must verify it.
pub fn issue_like(
    ca: &Ca,
    template_der: &[u8],
    validity: Duration,
    now: OffsetDateTime,
) -> Result<Issued, RenewalError> {
    let template = parse_der(template_der, "the served certificate")?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = template.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => names.push(SanType::DnsName((*dns).to_owned().try_into()?)),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        names.push(SanType::IpAddress(ip));
                    }
                }
                _ => {}
            }
        }
    }
    let common_name = template
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);

    let ca_not_after = OffsetDateTime::from_unix_timestamp(ca.not_after()?).map_err(|e| RenewalError::Certificate {
        what: "the CA".to_owned(),
        why: e.to_string(),
    })?;
    let mut params = rcgen::CertificateParams::default();
    params.subject_alt_names = names;
    if let Some(cn) = common_name {
        params.distinguished_name.push(DnType::CommonName, cn);
    }
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - BACKDATE;
    params.not_after = (now + validity).min(ca_not_after);

    let issuer = Issuer::from_ca_cert_der(&CertificateDer::from(ca.cert_der.as_slice()), &ca.key)?;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    if !ca.issued(cert.der()) {
        return Err(RenewalError::OtherIssuer { path: ca.path.clone() });
    }
    let validity = Validity::of(cert.der(), "the issued certificate")?;
    Ok(Issued {
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        validity,
    })
}

fn ip_from_bytes(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        _ => None,
    }
}

/// The certificate to serve instead of `served_der` at `now`, if it is due: issued by the CA of
/// `renewal` (which must have issued the served one) and outlasting it. `Ok(None)`: not due.
pub fn renew_if_due(renewal: &Renewal, served_der: &[u8], now: OffsetDateTime) -> Result<Option<Issued>, RenewalError> {
    let served = Validity::of(served_der, "the served certificate")?;
    if !served.renewal_due(now.unix_timestamp(), renewal.renew_before) {
        return Ok(None);
    }
    let ca = Ca::read(&renewal.ca_cert_file, &renewal.ca_key_file)?;
    if !ca.issued(served_der) {
        return Err(RenewalError::OtherIssuer {
            path: renewal.ca_cert_file.clone(),
        });
    }
    let ca_not_after = ca.not_after()?;
    // A CA about to expire cannot give a longer-lived certificate: renewing would only repeat.
    if ca_not_after <= served.not_after {
        return Err(RenewalError::CaExpiring {
            path: renewal.ca_cert_file.clone(),
            ca_not_after,
        });
    }
    issue_like(&ca, served_der, renewal.validity, now).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa};
    use std::net::{IpAddr, Ipv4Addr};

    struct TestCa {
        dir: tempfile::TempDir,
        params: CertificateParams,
        key: KeyPair,
    }

    fn ca(name: &str, days: i64) -> TestCa {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(days);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("ca.key"), key.serialize_pem()).unwrap();
        TestCa { dir, params, key }
    }

    impl TestCa {
        fn renewal(&self, renew_before: Option<Duration>) -> Renewal {
            Renewal {
                ca_cert_file: self.dir.path().join("ca.crt"),
                ca_key_file: self.dir.path().join("ca.key"),
                validity: DEFAULT_RENEWED_VALIDITY,
                renew_before,
            }
        }

        /// A serving certificate for two DNS names and 127.0.0.1, valid from `from` to `to`
        /// seconds around now.
        fn serving(&self, from: i64, to: i64) -> Vec<u8> {
            let mut params =
                CertificateParams::new(vec!["kkp-webhook.kkp-system.svc".to_owned(), "localhost".to_owned()]).unwrap();
            params
                .subject_alt_names
                .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
            params.distinguished_name.push(DnType::CommonName, "kkp-webhook");
            let now = OffsetDateTime::now_utc();
            params.not_before = now + time::Duration::seconds(from);
            params.not_after = now + time::Duration::seconds(to);
            let issuer = Issuer::from_params(&self.params, &self.key);
            params
                .signed_by(&KeyPair::generate().unwrap(), &issuer)
                .unwrap()
                .der()
                .to_vec()
        }
    }

    fn names(der: &[u8]) -> (Vec<String>, String) {
        let cert = parse_der(der, "x").unwrap();
        let sans = cert
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .map(|n| n.to_string())
            .collect();
        let cn = cert
            .subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        (sans, cn)
    }

    #[test]
    fn renewal_is_due_in_the_last_third_or_within_renew_before() {
        let v = Validity {
            not_before: 0,
            not_after: 90,
        };
        assert!(!v.renewal_due(0, None));
        assert!(!v.renewal_due(60, None), "exactly a third left is not yet due");
        assert!(v.renewal_due(61, None));
        assert!(v.renewal_due(200, None), "expired");
        assert!(!v.renewal_due(50, Some(Duration::from_secs(30))));
        assert!(v.renewal_due(0, Some(Duration::from_secs(100))));
        let backwards = Validity {
            not_before: 10,
            not_after: 5,
        };
        assert!(!backwards.renewal_due(0, None));
        assert!(backwards.renewal_due(6, None), "past its end");
    }

    #[test]
    fn renewal_issues_the_same_names_signed_by_the_same_ca() {
        let ca = ca("renewal-ca", 3650);
        let served = ca.serving(-3600, 60);
        let renewed = renew_if_due(&ca.renewal(None), &served, OffsetDateTime::now_utc())
            .expect("renewed")
            .expect("due: a minute of an hour left");
        let new_der = renewed.chain[0].as_ref();
        assert_eq!(names(new_der), names(&served));
        let authority = Ca::read(&ca.renewal(None).ca_cert_file, &ca.renewal(None).ca_key_file).unwrap();
        assert!(authority.issued(new_der));
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let days = (renewed.validity.not_after - now) / 86_400;
        assert!((89..=90).contains(&days), "{days} days");
        // The key fits the certificate.
        rustls::sign::CertifiedKey::from_der(
            renewed.chain.clone(),
            renewed.key.clone_key(),
            &rustls::crypto::ring::default_provider(),
        )
        .expect("the key fits");
        // And the fresh one is not due again.
        assert!(
            renew_if_due(&ca.renewal(None), new_der, OffsetDateTime::now_utc())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_certificate_with_time_left_is_not_renewed() {
        let ca = ca("renewal-ca", 3650);
        let served = ca.serving(-60, 3600);
        assert!(
            renew_if_due(&ca.renewal(None), &served, OffsetDateTime::now_utc())
                .unwrap()
                .is_none()
        );
        let forced = renew_if_due(
            &ca.renewal(Some(Duration::from_secs(7200))),
            &served,
            OffsetDateTime::now_utc(),
        );
        assert!(
            forced.unwrap().is_some(),
            "--renew-before beyond the time left forces it"
        );
    }

    #[test]
    fn another_ca_or_an_expiring_ca_does_not_renew() {
        let (ca1, ca2) = (ca("ca-one", 3650), ca("ca-two", 3650));
        let served = ca1.serving(-3600, 60);
        let other = renew_if_due(&ca2.renewal(None), &served, OffsetDateTime::now_utc()).unwrap_err();
        assert!(matches!(other, RenewalError::OtherIssuer { .. }), "{other}");

        let short = ca("short-ca", 1);
        let served = short.serving(-5 * 86_400, 86_400 + 60);
        let expiring = renew_if_due(&short.renewal(None), &served, OffsetDateTime::now_utc()).unwrap_err();
        assert!(matches!(expiring, RenewalError::CaExpiring { .. }), "{expiring}");

        let gone = Renewal {
            ca_cert_file: "/nonexistent/ca.crt".into(),
            ..ca1.renewal(None)
        };
        let missing = renew_if_due(&gone, &ca1.serving(-3600, 60), OffsetDateTime::now_utc()).unwrap_err();
        assert!(missing.is_missing_file(), "{missing}");
    }

    #[test]
    fn renewed_certificates_stop_at_the_ca() {
        let ca = ca("ten-day-ca", 10);
        let served = ca.serving(-3600, 60);
        let renewed = renew_if_due(&ca.renewal(None), &served, OffsetDateTime::now_utc())
            .unwrap()
            .unwrap();
        let authority = Ca::read(&ca.renewal(None).ca_cert_file, &ca.renewal(None).ca_key_file).unwrap();
        assert_eq!(renewed.validity.not_after, authority.not_after().unwrap());
    }

    #[test]
    fn flags_need_both_files_and_a_renew_before_shorter_than_the_validity() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            renewal: RenewalArgs,
        }
        let none = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(none.renewal, RenewalArgs::default());
        assert_eq!(Renewal::from_args(&none.renewal).unwrap(), None);
        assert!(Cli::try_parse_from(["x", "--ca-cert-file=ca.crt"]).is_err());
        let both = Cli::try_parse_from([
            "x",
            "--ca-cert-file=ca.crt",
            "--ca-key-file=ca.key",
            "--renew-before=720h",
        ])
        .unwrap();
        let renewal = Renewal::from_args(&both.renewal).unwrap().unwrap();
        assert_eq!(renewal.renew_before, Some(Duration::from_secs(720 * 3600)));
        assert_eq!(renewal.validity, DEFAULT_RENEWED_VALIDITY);
        let loop_forever =
            Cli::try_parse_from(["x", "--ca-cert-file=a", "--ca-key-file=b", "--renew-before=3000h"]).unwrap();
        assert!(matches!(
            Renewal::from_args(&loop_forever.renewal),
            Err(RenewalError::Settings { .. })
        ));
    }
}
