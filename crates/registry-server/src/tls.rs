//! `--tls-cert/--tls-key`: serving the router over TLS (rustls, HTTP/1.1 and HTTP/2).

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// A rustls server configuration from a PEM certificate chain and a PEM private key.
pub fn server_config(cert: &Path, key: &Path) -> Result<ServerConfig, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("reading certificate {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("reading private key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key do not match: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Accepts TLS connections on `listener` and serves `app` on each until the process ends.
pub async fn serve(listener: TcpListener, app: Router, config: ServerConfig) -> std::convert::Infallible {
    let acceptor = TlsAcceptor::from(Arc::new(config));
    crate::accept_loop(listener, move |tcp, peer| {
        let (acceptor, app) = (acceptor.clone(), app.clone());
        async move {
            match acceptor.accept(tcp).await {
                Ok(tls) => crate::serve_connection(tls, app, peer).await,
                Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
            }
        }
    })
    .await
}
