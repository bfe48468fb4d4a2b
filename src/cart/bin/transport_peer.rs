//! Test and benchmark peer for the transport: opens an endpoint from the environment
//! (D_PROVIDER, D_INTERFACE, D_PORT...), prints `URI <uri>`, and serves the test opcodes until
//! asked to shut down, its stdin closes (the parent died) or 60 s pass.
#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::time::Duration;

use cart::transport::{Endpoint, EndpointOptions, NetConfig};

fn main() {
    let cfg = match NetConfig::from_env(true) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("transport_peer: {e}");
            std::process::exit(2);
        }
    };
    let mut ep = match Endpoint::open(&cfg, &EndpointOptions::default()) {
        Ok(ep) => ep,
        Err(e) => {
            eprintln!("transport_peer: {e}");
            std::process::exit(3);
        }
    };
    println!("URI {}", ep.uri());
    std::io::stdout().flush().unwrap();
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    common::serve(&mut ep, Duration::from_secs(60));
}
