//! The stream under a WebSocket: plain TCP, or TLS whose upgrade request leaves with the
//! handshake's last flight.
//!
//! Over TLS 1.3 the client's Finished is its last handshake message; a client that waits for
//! the handshake to end before writing its upgrade request spends a second write (a second
//! loopback packet, on a generator a second trip through the kernel) on what could have gone
//! in one. So the request is handed to rustls before the handshake starts: rustls holds
//! application data until the server is verified and the keys are set, then queues it
//! right behind the Finished, and both leave in one write. Nothing is sent to a server that
//! failed verification: the request waits behind the same checks as before. (Over TLS 1.2
//! the client's Finished goes before the server's, and rustls sends the request only once the
//! server's Finished is checked: a write of its own, as before.)
//!
//! tungstenite still performs the upgrade (its request, its checks of the response, its
//! errors): its own write of the request is matched byte for byte against what already left
//! and absorbed; a request that differs is an error, never a request sent twice.

use std::io::{self, Write as _};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::error::{Error as WsError, TlsError, UrlError};
use tokio_tungstenite::tungstenite::handshake::client::{generate_request, Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

/// A connected socket, plain or TLS.
pub struct Socket {
    io: Io,
    /// The upgrade request already handed to TLS, and how much of tungstenite's own write of
    /// it has been matched so far.
    early: Vec<u8>,
    matched: usize,
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// Connects to `request`'s host (Nagle off), over TLS for `wss`, and upgrades.
pub async fn connect(
    request: Request,
    tls: &Arc<rustls::ClientConfig>,
    config: WebSocketConfig,
) -> Result<(WebSocketStream<Socket>, Response), WsError> {
    let uri = request.uri();
    let host = uri.host().ok_or(WsError::Url(UrlError::NoHostName))?;
    // rustls and the resolver both want an IPv6 address without its brackets.
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .to_owned();
    let secure = match uri.scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        _ => return Err(WsError::Url(UrlError::UnsupportedUrlScheme)),
    };
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = TcpStream::connect((host.as_str(), port)).await?;
    tcp.set_nodelay(true)?;
    let socket = if secure {
        let (mut early, _key) = generate_request(request.clone())?;
        let (stream, held) = start_tls(tcp, tls, host, &early).await?;
        early.truncate(held);
        Socket {
            io: Io::Tls(Box::new(stream)),
            early,
            matched: 0,
        }
    } else {
        Socket {
            io: Io::Plain(tcp),
            early: Vec::new(),
            matched: 0,
        }
    };
    tokio_tungstenite::client_async_with_config(request, socket, Some(config)).await
}

/// TLS over `io` with `early` handed to rustls before the handshake starts: the stream, and
/// how much of `early` rustls took (it leaves with the client's Finished; rustls holds up to
/// its buffer limit, 64 KiB, and what it did not take is written after, as any write).
async fn start_tls<IO: AsyncRead + AsyncWrite + Unpin>(
    io: IO,
    tls: &Arc<rustls::ClientConfig>,
    host: String,
    early: &[u8],
) -> Result<(TlsStream<IO>, usize), WsError> {
    let name = rustls::pki_types::ServerName::try_from(host)
        .map_err(|_| WsError::Tls(TlsError::InvalidDnsName))?;
    let mut held = 0;
    let stream = tokio_rustls::TlsConnector::from(tls.clone())
        .connect_with(name, io, |conn| {
            held = conn.writer().write(early).unwrap_or(0)
        })
        .await?;
    Ok((stream, held))
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.matched < this.early.len() {
            let rest = &this.early[this.matched..];
            let n = rest.len().min(buf.len());
            if buf[..n] != rest[..n] {
                return Poll::Ready(Err(io::Error::other(
                    "the upgrade request differs from the one sent with the TLS handshake",
                )));
            }
            this.matched += n;
            if this.matched == this.early.len() {
                this.early = Vec::new();
                this.matched = 0;
            }
            return Poll::Ready(Ok(n));
        }
        match &mut this.io {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    /// The client's side of a pipe, keeping the size of each write (a vectored write is one,
    /// as `writev` on a socket is).
    struct Counting {
        io: DuplexStream,
        writes: Arc<std::sync::Mutex<Vec<usize>>>,
    }

    impl AsyncRead for Counting {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Counting {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.poll_write_vectored(cx, &[io::IoSlice::new(buf)])
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let all: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            let written = std::task::ready!(Pin::new(&mut self.io).poll_write(cx, &all))?;
            self.writes.lock().unwrap().push(written);
            Poll::Ready(Ok(written))
        }
        fn is_write_vectored(&self) -> bool {
            true
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_flush(cx)
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_shutdown(cx)
        }
    }

    /// A handshake with the reference target's certificate (its CA trusted when `trusted`):
    /// the client's writes, and the request as the server read it (or the client's error).
    async fn handshake(trusted: bool, request: &[u8]) -> (Vec<usize>, Result<Vec<u8>, String>) {
        let dir = tempfile::tempdir().unwrap();
        let server = crate::reference::certs::server_config(&dir.path().join("a.pem"), 30, None);
        let acceptor = tokio_rustls::TlsAcceptor::from(server.unwrap());
        let ca = if trusted { "a.pem" } else { "b.pem" };
        crate::reference::certs::server_config(&dir.path().join("b.pem"), 30, None).unwrap();
        let client = crate::client::tls::client_config(Some(&dir.path().join(ca)), false).unwrap();
        let (near, far) = tokio::io::duplex(64 * 1024);
        let len = request.len();
        let serving = tokio::spawn(async move {
            let mut tls = acceptor.accept(far).await.ok()?;
            let mut got = vec![0u8; len];
            tls.read_exact(&mut got).await.ok()?;
            tls.write_all(b"ok").await.ok()?;
            Some(got)
        });
        let writes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let counting = Counting {
            io: near,
            writes: writes.clone(),
        };
        let started = start_tls(counting, &client, "localhost".into(), request).await;
        let outcome = match started {
            Ok((mut tls, held)) => {
                assert_eq!(held, len);
                let mut ok = [0u8; 2];
                tls.read_exact(&mut ok).await.unwrap();
                Ok(serving.await.unwrap().expect("the server read the request"))
            }
            Err(e) => Err(e.to_string()),
        };
        let writes = writes.lock().unwrap().clone();
        (writes, outcome)
    }

    #[tokio::test]
    async fn the_request_leaves_in_the_write_that_finishes_the_handshake() {
        let request = [b'r'; 700];
        let (writes, read) = handshake(true, &request).await;
        assert_eq!(read.unwrap(), request);
        // The ClientHello, then one write: Finished (and its ChangeCipherSpec) with the request.
        assert_eq!(writes.len(), 2, "{writes:?}");
        assert!(writes[1] > request.len(), "{writes:?}");
    }

    #[tokio::test]
    async fn a_server_that_fails_verification_never_gets_the_request() {
        let request = [b'r'; 700];
        let (writes, read) = handshake(false, &request).await;
        assert!(read.unwrap_err().contains("certificate"));
        // The ClientHello and at most an alert: nothing the size of the request.
        let after_hello: usize = writes.iter().skip(1).sum();
        assert!(after_hello < 100, "{writes:?}");
    }

    /// A socket to a local listener whose request already left with the handshake, and the
    /// listener's side.
    async fn sent_early(early: &[u8]) -> (Socket, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = TcpStream::connect(listener.local_addr().unwrap()).await;
        let (peer, _) = listener.accept().await.unwrap();
        let socket = Socket {
            io: Io::Plain(tcp.unwrap()),
            early: early.to_vec(),
            matched: 0,
        };
        (socket, peer)
    }

    #[tokio::test]
    async fn the_upgrade_writes_the_request_already_sent_only_once() {
        let (mut socket, mut peer) = sent_early(b"GET /ws HTTP/1.1\r\n\r\n").await;
        // tungstenite's own write of it, in two parts, is absorbed...
        socket.write_all(b"GET /ws").await.unwrap();
        socket.write_all(b" HTTP/1.1\r\n\r\n").await.unwrap();
        // ...and what follows goes out.
        socket.write_all(b"frame").await.unwrap();
        let mut got = [0u8; 5];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"frame");
        // A request that differs from the one that left is an error, never sent.
        let (mut socket, _peer) = sent_early(b"GET /ws HTTP/1.1\r\n\r\n").await;
        let differs = socket.write_all(b"GET /other HTTP/1.1\r\n\r\n").await;
        assert!(differs.unwrap_err().to_string().contains("differs"));
    }
}
