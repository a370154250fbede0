//! Certificates made at test time: a CA, a server certificate for `localhost` and 127.0.0.1, a
//! client certificate from the same CA, and one from a CA nobody trusts. All PEM files in one
//! temporary directory.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

/// The PEM files of a test PKI.
pub struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// Make a fresh CA and its certificates.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (ca_params, ca_key) = authority("spanwise test CA");
        write(
            dir.path(),
            "ca.pem",
            &ca_params.self_signed(&ca_key).expect("signs").pem(),
        );
        let ca = Issuer::new(ca_params, ca_key);
        leaf(
            dir.path(),
            "server",
            &ca,
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        leaf(
            dir.path(),
            "client",
            &ca,
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        let (other_params, other_key) = authority("an untrusted CA");
        write(
            dir.path(),
            "other-ca.pem",
            &other_params.self_signed(&other_key).expect("signs").pem(),
        );
        let other = Issuer::new(other_params, other_key);
        leaf(
            dir.path(),
            "stranger",
            &other,
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        Self { dir }
    }

    /// The file `name` (`ca.pem`, `server.pem`, `server-key.pem`, `client.pem`,
    /// `client-key.pem`, `other-ca.pem`, `stranger.pem`, `stranger-key.pem`).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

fn authority(name: &str) -> (CertificateParams, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("valid names");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    (params, KeyPair::generate().expect("a key"))
}

fn leaf(dir: &Path, name: &str, issuer: &Issuer<'_, KeyPair>, usage: ExtendedKeyUsagePurpose) {
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("valid names");
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    let key = KeyPair::generate().expect("a key");
    let cert = params.signed_by(&key, issuer).expect("signs");
    write(dir, &format!("{name}.pem"), &cert.pem());
    write(dir, &format!("{name}-key.pem"), &key.serialize_pem());
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("the PEM file is written");
}
