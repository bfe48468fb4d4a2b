//! Transport benchmark over ofi+tcp on `lo` (and optionally ofi+shm), client here and server in a second process (the
//! cart_transport_peer binary), like upstream's self_test between two processes:
//! - request/response rate with 1 and 16 in flight, request bodies 0 B .. 1 MiB and empty
//!   replies, plus the same with the reply echoing the body;
//! - latency (median and 99th percentile) with 1 in flight;
//! - 1 MiB bulk bandwidth (the server pulls 1 MiB from the client with RMA read per request),
//!   1 and 16 in flight.
//!
//! Each rate is the median of 5 runs. `cargo bench -p cart`; CART_BENCH_SECS sets the length
//! of one run (default 0.3 s), CART_BENCH_SIZES a comma-separated list of message sizes,
//! CART_BENCH_PROVIDERS the providers (default `ofi+tcp`; `ofi+tcp,ofi+shm` adds shm).
#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cart::transport::{BulkPerm, Endpoint, Event, OpId, Peer, Provider};
use common::*;

const PEER: &str = env!("CARGO_BIN_EXE_cart_transport_peer");

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Runs requests made by `mk` with `depth` in flight for `dur`; returns (requests/s, per
/// request latencies in us).
fn run(ep: &mut Endpoint, peer: Peer, depth: usize, dur: Duration, mk: &mut dyn FnMut(&mut Endpoint) -> (u32, Vec<u8>)) -> (f64, Vec<f64>) {
    let mut started: HashMap<OpId, Instant> = HashMap::new();
    let mut lat = Vec::new();
    let t0 = Instant::now();
    let mut done = 0u64;
    let post = |ep: &mut Endpoint, started: &mut HashMap<OpId, Instant>, mk: &mut dyn FnMut(&mut Endpoint) -> (u32, Vec<u8>)| {
        let (opc, body) = mk(ep);
        let op = ep.send_request(peer, opc, body, Some(Duration::from_secs(20)), 0u64).unwrap();
        started.insert(op, Instant::now());
    };
    for _ in 0..depth {
        post(ep, &mut started, mk);
    }
    while !started.is_empty() {
        ep.progress(Duration::from_millis(100)).unwrap();
        while let Some(ev) = ep.next_event() {
            if let Event::Completed(c) = ev {
                c.result.unwrap();
                let s = started.remove(&c.op).unwrap();
                lat.push(s.elapsed().as_secs_f64() * 1e6);
                done += 1;
                if t0.elapsed() < dur {
                    post(ep, &mut started, mk);
                }
            }
        }
    }
    (done as f64 / t0.elapsed().as_secs_f64(), lat)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let scale: f64 = std::env::var("CART_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(0.3);
    let dur = Duration::from_secs_f64(scale);
    let providers = std::env::var("CART_BENCH_PROVIDERS").unwrap_or_else(|_| "ofi+tcp".into());
    for p in providers.split(',') {
        bench(Provider::parse(p).expect("provider"), dur);
    }
}

fn bench(provider: Provider, dur: Duration) {
    let srv = ProcServer::start(PEER, provider.as_str(), &[]);
    let mut ep = open(provider);
    let peer = ep.lookup(&srv.uri).unwrap();
    // warm up the connection
    for _ in 0..200 {
        call(&mut ep, peer, OPC_SINK, Vec::new(), Duration::from_secs(5)).unwrap();
    }
    println!("cart transport over {provider}{} (server in a second process); medians of 5 runs", if provider.is_inet() { " on lo" } else { "" });
    println!("{:>9} {:>6} {:>12} {:>12} {:>12} {:>12} {:>12}", "size", "reply", "rpc/s x1", "rpc/s x16", "MB/s x16", "lat p50 us", "lat p99 us");
    let sizes: Vec<usize> = match std::env::var("CART_BENCH_SIZES") {
        Ok(v) => v.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect(),
        Err(_) => vec![0, 64, 1024, 4096, 16384, 65536, 262144, 1 << 20],
    };
    for &n in &sizes {
        for echo in [false, true] {
            if echo && n == 0 {
                continue;
            }
            let body = pattern(n as u64, n);
            let opc = if echo { OPC_ECHO } else { OPC_SINK };
            let mut mk = |_: &mut Endpoint| (opc, body.clone());
            let mut r1 = Vec::new();
            let mut r16 = Vec::new();
            let mut lats = Vec::new();
            for _ in 0..5 {
                let (r, mut l) = run(&mut ep, peer, 1, dur, &mut mk);
                r1.push(r);
                lats.append(&mut l);
                r16.push(run(&mut ep, peer, 16, dur, &mut mk).0);
            }
            let (m1, m16) = (median(&mut r1), median(&mut r16));
            let p50 = median(&mut lats);
            let p99 = lats[(lats.len() * 99) / 100];
            let bytes = if echo { 2 * n } else { n } as f64;
            println!(
                "{:>9} {:>6} {:>12.0} {:>12.0} {:>12.1} {:>12.1} {:>12.1}",
                n,
                if echo { "echo" } else { "0" },
                m1,
                m16,
                m16 * bytes / 1e6,
                p50,
                p99
            );
        }
    }
    // Bulk: the server GETs 1 MiB from a client handle per request.
    let mib = 1 << 20;
    let h = ep.bulk_create(vec![pattern(3, mib)], BulkPerm::ReadWrite).unwrap();
    let desc = ep.bulk_desc(h, false).unwrap();
    let body = bulk_body(0, mib as u64, NO_CHECK, &desc);
    for depth in [1usize, 4, 16] {
        let mut mk = |_: &mut Endpoint| (OPC_BULK_GET, body.clone());
        let mut rs = Vec::new();
        for _ in 0..5 {
            rs.push(run(&mut ep, peer, depth, dur, &mut mk).0);
        }
        println!("bulk GET 1 MiB, {depth:>2} in flight: {:8.1} MB/s (median of 5)", median(&mut rs) * mib as f64 / 1e6);
    }
    let mut mk = |_: &mut Endpoint| (OPC_BULK_PUT, body.clone());
    let mut rs = Vec::new();
    for _ in 0..5 {
        rs.push(run(&mut ep, peer, 16, dur, &mut mk).0);
    }
    println!("bulk PUT 1 MiB, 16 in flight: {:8.1} MB/s (median of 5)", median(&mut rs) * mib as f64 / 1e6);
    ep.bulk_free(h).unwrap();
    srv.stop(&mut ep);
}
