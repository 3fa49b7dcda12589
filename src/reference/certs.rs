//! The target's TLS: a fresh CA per start, and a leaf for localhost/127.0.0.1/::1 signed by it.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::Path;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// Makes a CA and a leaf valid `valid_days` from now (negative: already expired), writes the CA
/// PEM to `ca_out`, and returns the server config.
pub fn server_config(
    ca_out: &Path,
    valid_days: i64,
    hostname: Option<&str>,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    crate::wire::install_tls_provider();
    let now = OffsetDateTime::now_utc();

    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "agentload reference target CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now - Duration::days(1);
    ca_params.not_after = now + Duration::days(365);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let names = match hostname {
        Some(name) => vec![name.to_string()],
        None => vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ],
    };
    let mut leaf = CertificateParams::new(names)?;
    leaf.distinguished_name
        .push(DnType::CommonName, "agentload reference target");
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let (not_before, not_after) = if valid_days >= 0 {
        (now - Duration::hours(1), now + Duration::days(valid_days))
    } else {
        (
            now + Duration::days(valid_days - 30),
            now + Duration::days(valid_days),
        )
    };
    leaf.not_before = not_before;
    leaf.not_after = not_after;
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca)?;

    std::fs::write(ca_out, ca.pem())
        .map_err(|e| anyhow::anyhow!("cannot write the CA file {}: {e}", ca_out.display()))?;

    let chain = vec![
        leaf_cert.der().clone(),
        CertificateDer::from(ca.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // A client's ticket request (RFC 9149) is honoured up to the 2 tickets sent by default:
    // a client that will not resume asks for none and gets none.
    config.max_tls13_tickets = 2;
    Ok(Arc::new(config))
}
