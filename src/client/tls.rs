//! TLS client settings shared by the WebSocket client and the HTTP client.

mod verifier;

pub use crate::wire::install_tls_provider as install_provider;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("CA file {path}: {message}")]
    CaFile { path: PathBuf, message: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// A client config trusting the public web roots plus the certificates in `ca_file`; with
/// `resume`, connections resume earlier TLS sessions (tickets), else each one is a full
/// handshake, as a new client's.
pub fn client_config(
    ca_file: Option<&Path>,
    resume: bool,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    install_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let bad = |message: String| TlsError::CaFile {
            path: path.to_path_buf(),
            message,
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("holds no PEM certificate".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
        }
    }
    let provider = Arc::new(provider());
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| TlsError::Client(e.to_string()))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Client(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier::Remembering::new(webpki)))
        .with_no_client_auth();
    if !resume {
        config.resumption = rustls::client::Resumption::disabled();
        // A client that will not resume asks for no tickets (RFC 9149): a server that honours
        // it sends none, and nothing is read, decrypted and thrown away after the handshake.
        config.send_ticket_request = Some(rustls::client::TicketRequest {
            new_session_count: 0,
            resumption_count: 0,
        });
    }
    Ok(Arc::new(config))
}

/// The cryptography, as aws-lc-rs provides it, with TLS 1.3's AES-128-GCM-SHA256 offered
/// first, as browsers do: its key schedule and transcript hash run on SHA-256, which this
/// CPU computes in hardware, where AES-256-GCM-SHA384's SHA-384 does not (rustls's default
/// order puts it first; the profile of a wss session found SHA-512 blocks at 2.3% of the
/// generator's CPU). Every suite and group stays on offer.
fn provider() -> rustls::crypto::CryptoProvider {
    use rustls::CipherSuite::TLS13_AES_128_GCM_SHA256;
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider
        .cipher_suites
        .sort_by_key(|s| s.suite() != TLS13_AES_128_GCM_SHA256);
    provider
}

/// An HTTP client using the same trust as the WebSocket client.
pub fn http_client(
    config: &Arc<rustls::ClientConfig>,
    timeout: std::time::Duration,
) -> Result<reqwest::Client, TlsError> {
    reqwest::Client::builder()
        .tls_backend_preconfigured((**config).clone())
        .timeout(timeout)
        .build()
        .map_err(|e| TlsError::Client(crate::errors::chain(&e)))
}
