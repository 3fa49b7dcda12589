//! TLS: the chain validates (system roots or the plan's CA file), the name matches, days to
//! expiry (warn under 30, fail under 7), the protocol version.

use crate::load::drive::Resolved;
use crate::model::preflight::{Check, Verdict};
use rustls::pki_types::ServerName;
use std::sync::Arc;
use tokio::net::TcpStream;

const WARN_DAYS: i64 = 30;
const FAIL_DAYS: i64 = 7;

pub async fn tls(resolved: &Resolved) -> Vec<Check> {
    let Ok(url) = url::Url::parse(&resolved.ws_url) else {
        return vec![Check::new(
            "tls",
            "certificate",
            Verdict::Fail,
            "the WebSocket URL does not parse",
        )];
    };
    if url.scheme() != "wss" {
        return vec![Check::new(
            "tls",
            "certificate",
            Verdict::Warn,
            "plain ws://: no TLS to check",
        )];
    }
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let config = match crate::client::tls::client_config(resolved.ca_file.as_deref(), false) {
        Ok(c) => c,
        Err(e) => {
            return vec![Check::new(
                "tls",
                "certificate",
                Verdict::Fail,
                e.to_string(),
            )]
        }
    };
    match handshake(config, &host, port).await {
        Err(reason) => vec![Check::new("tls", "certificate", Verdict::Fail, reason)],
        Ok((days, version)) => {
            let verdict = if days < FAIL_DAYS {
                Verdict::Fail
            } else if days < WARN_DAYS {
                Verdict::Warn
            } else {
                Verdict::Pass
            };
            vec![
                Check::new(
                    "tls",
                    "certificate",
                    Verdict::Pass,
                    format!("chain and name valid for {host}"),
                ),
                Check::new(
                    "tls",
                    "expiry",
                    verdict,
                    format!("{days} days left (warn < {WARN_DAYS}, fail < {FAIL_DAYS})"),
                ),
                Check::new("tls", "protocol", Verdict::Pass, version),
            ]
        }
    }
}

/// A verified handshake: days until the leaf expires, and the protocol version.
async fn handshake(
    config: Arc<rustls::ClientConfig>,
    host: &str,
    port: u16,
) -> Result<(i64, String), String> {
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(config);
    let stream = connector
        .connect(name, tcp)
        .await
        .map_err(|e| crate::errors::chain(&e))?;
    let (_, conn) = stream.get_ref();
    let version = conn
        .protocol_version()
        .map_or("unknown".to_string(), |v| format!("{v:?}"));
    let leaf = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or("the server sent no certificate")?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf).map_err(|e| e.to_string())?;
    let not_after = cert.validity().not_after.timestamp();
    let now = chrono::Utc::now().timestamp();
    Ok(((not_after - now) / 86_400, version))
}
