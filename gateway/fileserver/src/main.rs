//! `outfit-fileserver --dir DIR --listen ADDRESS:PORT`: serves the packages
//! of the sites it was added for (`outfit-gateway file-server add`) to their
//! devices. Glue: settings in, the listener up.

use anyhow::Context as _;
use clap::Parser;
use outfit_fileserver::Directory;
use outfit_fileserver::entitlement::Entitlements;
use outfit_fileserver::gateway::Gateways;
use outfit_fileserver::serve::{Body, FileServer};
use outfit_fileserver::store::Store;
use outfit_wsdl::transport::{self, Clients, Endpoint, Handler, Identity};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "outfit-fileserver", version, about = "A package repository near the devices, for Outfit")]
struct Cli {
    /// The directory `outfit-gateway file-server add --out` wrote (its
    /// certificate, key, the CA, gateway.url); the store goes under it.
    #[arg(long, env = "OUTFIT_FILESERVER_DIR")]
    dir: PathBuf,
    /// Where devices connect (the host and port of the URL it was added with).
    #[arg(long, default_value = "0.0.0.0:8446")]
    listen: String,
    /// A gateway's operator listener to ask (repeat: tried in order);
    /// default: the lines of DIR/gateway.url.
    #[arg(long = "gateway")]
    gateways: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("OUTFIT_LOG").unwrap_or_else(|_| "info".into()))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let dir = Directory::new(&cli.dir);
    let urls = if cli.gateways.is_empty() {
        let file = dir.gateway_urls();
        let text = std::fs::read_to_string(&file).with_context(|| {
            format!(
                "failed to read {}; give --gateway URL or the directory `file-server add --out` wrote",
                file.display()
            )
        })?;
        text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
    } else {
        cli.gateways
    };
    let urls = urls.iter().map(|u| Endpoint::parse(u)).collect::<Result<Vec<_>, _>>()?;
    anyhow::ensure!(!urls.is_empty(), "no gateway URL: give --gateway URL");
    let (cert, key) = (dir.cert(), dir.key());
    let me = Identity { cert: &cert, key: &key };
    let gateways = Gateways::new(transport::client_config(&dir.ca(), Some(me))?, urls);
    let server = Arc::new(FileServer {
        entitlements: Entitlements::new(gateways.clone()),
        store: Store::open(dir.store(), gateways)?,
    });
    let tls = transport::server_config(me, Clients::Required(&dir.ca()))?;
    let listener =
        tokio::net::TcpListener::bind(&cli.listen).await.with_context(|| format!("failed to bind {}", cli.listen))?;
    let bound = listener.local_addr()?;
    let handler: Handler<Body> = Arc::new(move |connection, request| {
        let server = server.clone();
        Box::pin(async move { server.route(connection, request).await })
    });
    std::fs::write(dir.listening(), format!("{bound}\n"))?;
    tracing::info!(%bound, "file server serving");
    transport::serve(listener, tls, handler).await;
    Ok(())
}
