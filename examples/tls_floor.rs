//! What TLS costs the client of one W5 session with no socket under it: a full TLS 1.3
//! handshake with the reference target's certificate, then W5's records (the upgrade request
//! and response, two turns of six events, the close), client and server in one thread with
//! bytes handed over in memory. The generator's own client config (its verifier, suites and
//! ticket request); only the client's calls are timed. Beside it, the handshake's public-key
//! cryptography timed alone: one X25519 exchange (key made, shared secret computed) and one
//! P-256 CertificateVerify checked. Median of 7 rounds of 400 sessions.
//!
//!     cargo run --release --example tls_floor
//!
//! The difference between `session_us` and `crypto_us` is what rustls itself adds (state
//! machine, transcript, key schedule, records); what a wss session costs in a real run above
//! `session_us` is sockets, wake-ups and the runtime.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConnection, DigitallySignedStruct, NamedGroup, ServerConnection};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROUNDS: usize = 7;
const SESSIONS: usize = 400;
/// W5's session as the target sends it: the upgrade response, then two turns of six events.
const SERVER_RECORDS: [usize; 13] = [
    190, 280, 392, 392, 279, 421, 384, 281, 392, 392, 279, 421, 384,
];
/// The client's: its upgrade request, two turns' messages and the close frame.
const CLIENT_RECORDS: [usize; 4] = [525, 228, 228, 6];

/// The signed handshake the first connection checked, kept to time the check alone.
type Signed = (Vec<u8>, CertificateDer<'static>, DigitallySignedStruct);

#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    signed: Mutex<Option<Signed>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        *self.signed.lock().unwrap() = Some((m.to_vec(), c.clone().into_owned(), d.clone()));
        self.inner.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// One session; returns the time spent in the client's calls.
fn session(
    client: &Arc<rustls::ClientConfig>,
    server: &Arc<rustls::ServerConfig>,
    payload: &[u8],
) -> Duration {
    let mut spent = Duration::ZERO;
    let mut timed = |f: &mut dyn FnMut()| {
        let at = Instant::now();
        f();
        spent += at.elapsed();
    };
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut c: Option<ClientConnection> = None;
    timed(&mut || c = Some(ClientConnection::new(client.clone(), name.clone()).unwrap()));
    let mut c = c.unwrap();
    let mut s = ServerConnection::new(server.clone()).unwrap();
    let mut to_server = Vec::new();
    let mut to_client = Vec::new();
    let mut plain = vec![0u8; 4096];
    // The request goes to rustls before the handshake, as the generator does it.
    timed(&mut || {
        c.writer().write_all(&payload[..CLIENT_RECORDS[0]]).unwrap();
        c.write_tls(&mut to_server).unwrap();
    });
    while c.is_handshaking() || !to_server.is_empty() {
        s.read_tls(&mut &to_server[..]).unwrap();
        s.process_new_packets().unwrap();
        to_server.clear();
        s.write_tls(&mut to_client).unwrap();
        timed(&mut || {
            if !to_client.is_empty() {
                c.read_tls(&mut &to_client[..]).unwrap();
                c.process_new_packets().unwrap();
            }
            c.write_tls(&mut to_server).unwrap();
        });
        to_client.clear();
    }
    // The server's records, each read and decrypted by the client; the client's after them.
    for (i, len) in SERVER_RECORDS.iter().enumerate() {
        s.writer().write_all(&payload[..*len]).unwrap();
        s.write_tls(&mut to_client).unwrap();
        timed(&mut || {
            c.read_tls(&mut &to_client[..]).unwrap();
            c.process_new_packets().unwrap();
            let _ = c.reader().read(&mut plain).unwrap();
            // A turn's message follows the upgrade response and the first turn's end.
            if i % 6 == 0 && i < 12 {
                c.writer()
                    .write_all(&payload[..CLIENT_RECORDS[1 + i / 6]])
                    .unwrap();
                c.write_tls(&mut to_server).unwrap();
            }
        });
        to_client.clear();
    }
    timed(&mut || {
        c.writer().write_all(&payload[..CLIENT_RECORDS[3]]).unwrap();
        c.write_tls(&mut to_server).unwrap();
    });
    spent
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let ca = dir.path().join("ca.pem");
    let server = agentload::reference::certs::server_config(&ca, 30, None)?;
    let client = agentload::tls::client_config(Some(&ca), false)?;
    let payload = vec![b'x'; 1024];

    // The signed handshake and the key-exchange group, from the same trust and provider.
    let provider: Arc<CryptoProvider> = client.crypto_provider().clone();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_file_iter(&ca)? {
        roots.add(cert?)?;
    }
    let recording = Arc::new(Recording {
        inner: WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()?,
        signed: Mutex::new(None),
    });
    let mut probe = (*client).clone();
    probe
        .dangerous()
        .set_certificate_verifier(recording.clone());
    session(&Arc::new(probe), &server, &payload);
    let (message, cert, dss) = recording
        .signed
        .lock()
        .unwrap()
        .take()
        .expect("a signed handshake");
    let algorithms = provider.signature_verification_algorithms;
    let x25519 = provider
        .kx_groups
        .iter()
        .find(|g| g.name() == NamedGroup::X25519)
        .expect("X25519 offered");
    let peer = x25519.start()?.pub_key().to_vec();

    let (mut sessions, mut exchanges, mut checks) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let mut total = Duration::ZERO;
        for _ in 0..SESSIONS {
            total += session(&client, &server, &payload);
        }
        sessions.push(total.as_secs_f64() * 1e6 / SESSIONS as f64);
        let at = Instant::now();
        for _ in 0..SESSIONS {
            let kx = x25519.start()?;
            std::hint::black_box(kx.pub_key());
            std::hint::black_box(kx.complete(&peer)?);
        }
        exchanges.push(at.elapsed().as_secs_f64() * 1e6 / SESSIONS as f64);
        let at = Instant::now();
        for _ in 0..SESSIONS {
            rustls::crypto::verify_tls13_signature(&message, &cert, &dss, &algorithms)?;
        }
        checks.push(at.elapsed().as_secs_f64() * 1e6 / SESSIONS as f64);
    }
    let (session_us, x25519_us, verify_us) = (median(sessions), median(exchanges), median(checks));
    println!(
        "{{\"session_us\": {session_us:.1}, \"x25519_us\": {x25519_us:.1}, \
         \"p256_verify_us\": {verify_us:.1}, \"crypto_us\": {:.1}, \"rustls_us\": {:.1}}}",
        x25519_us + verify_us,
        session_us - x25519_us - verify_us
    );
    Ok(())
}
