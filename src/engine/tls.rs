//! TLS client settings shared by the WebSocket client and the HTTP client.

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

pub use crate::wire::install_tls_provider as install_provider;

/// A client config trusting the public web roots plus the certificates in `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
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
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
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
