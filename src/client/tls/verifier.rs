//! Certificate verification that remembers what it verified, as a browser's verifier does
//! (Chrome's caches a chain's result for the same certificates and host): a server that
//! presents the very chain it presented a moment ago, for the same name, is not checked
//! against the trust anchors again. Everything that proves *this* handshake still runs on
//! every connection: the server's signature over the handshake (CertificateVerify) with the
//! certificate's key. A chain is remembered only once it passed, for `REMEMBER` at most and
//! never past its leaf's expiry; a failure is never remembered, and bytes are compared
//! whole (no hash stands for a certificate).
//!
//! The profile of a wss session (docs/performance.md): the chain's signature check and path
//! building were ~0.07 ms of the ~0.3 ms TLS added to each session on the generator.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, SignatureScheme};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a verified chain is taken as verified (a browser keeps its result for minutes).
const REMEMBER: Duration = Duration::from_secs(60);
/// Distinct chains remembered at most (a test reaches a handful of hosts).
const MOST: usize = 64;

#[derive(Debug)]
pub struct Remembering {
    inner: Arc<WebPkiServerVerifier>,
    /// The chain, its name and its stapled OCSP response, whole: until when it is verified.
    verified: Mutex<HashMap<Vec<u8>, Instant>>,
}

impl Remembering {
    pub fn new(inner: Arc<WebPkiServerVerifier>) -> Remembering {
        Remembering {
            inner,
            verified: Mutex::new(HashMap::new()),
        }
    }
}

/// The exact bytes a verification depends on, each with its length.
fn key(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    server_name: &ServerName<'_>,
    ocsp: &[u8],
) -> Vec<u8> {
    let name = server_name.to_str();
    let parts = [end_entity.as_ref(), name.as_bytes(), ocsp]
        .into_iter()
        .chain(intermediates.iter().map(|c| c.as_ref()));
    let mut key = Vec::new();
    for part in parts {
        key.extend_from_slice(&(part.len() as u64).to_le_bytes());
        key.extend_from_slice(part);
    }
    key
}

/// The leaf's notAfter as seconds since the epoch (`None`: unreadable; then nothing is kept).
fn not_after(end_entity: &CertificateDer<'_>) -> Option<u64> {
    let (_, cert) = x509_parser::parse_x509_certificate(end_entity.as_ref()).ok()?;
    u64::try_from(cert.validity().not_after.timestamp()).ok()
}

impl ServerCertVerifier for Remembering {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let key = key(end_entity, intermediates, server_name, ocsp_response);
        let at = Instant::now();
        {
            let verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            if verified.get(&key).is_some_and(|until| at < *until) {
                return Ok(ServerCertVerified::assertion());
            }
        }
        let ok = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        if let Some(expires) = not_after(end_entity) {
            let left = Duration::from_secs(expires.saturating_sub(now.as_secs()));
            let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            if verified.len() >= MOST {
                verified.retain(|_, until| at < *until);
            }
            if verified.len() < MOST {
                verified.insert(key, at + REMEMBER.min(left));
            }
        }
        Ok(ok)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
