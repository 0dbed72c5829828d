//! TLS: the HTTPS/WSS acceptor for browsers and the connector towards nodes.

use std::{path::Path, sync::Arc};

use anyhow::Context;
use tokio_rustls::{TlsAcceptor, TlsConnector, rustls};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Serves TLS with the PEM certificate chain and key (`--tls-cert`, `--tls-key`).
pub(crate) fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(cert).context("--tls-cert")?,
    ))
    .collect::<Result<Vec<_>, _>>()?;
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(key).context("--tls-key")?,
    ))?
    .context("no private key in --tls-key")?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A TLS client towards nodes trusting only the CA file (`--node-ca`).
pub(crate) fn connector(ca: &Path) -> anyhow::Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    let file = std::fs::File::open(ca).with_context(|| format!("--node-ca {}", ca.display()))?;
    for cert in rustls_pemfile::certs(&mut std::io::BufReader::new(file)) {
        roots.add(cert?)?;
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
