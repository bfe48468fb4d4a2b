//! Transport tests on loopback: two endpoints in one process (a server thread) and in two
//! processes (the cart_transport_peer binary), over ofi+tcp on `lo` and over ofi+shm.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cart::transport::{
    der, BulkDesc, BulkOp, BulkPerm, Endpoint, EndpointOptions, Error, Event, NetConfig, Notify, Provider,
};
use common::*;

const T: Duration = Duration::from_secs(10);
const PEER: &str = env!("CARGO_BIN_EXE_cart_transport_peer");

/// Request/response from 0 B to 4 MiB: eager, at the eager limit, and by rendezvous both ways.
fn sizes_round_trip(ep: &mut Endpoint, uri: &str) {
    let peer = ep.lookup(uri).unwrap();
    let eager = ep.eager_size();
    for n in [0usize, 1, 100, 4096, eager - 200, eager - 40 - 16, eager, eager + 1, 1 << 20, (4 << 20) + 3] {
        let body = pattern(n as u64, n);
        let got = call(ep, peer, OPC_ECHO, body.clone(), T).unwrap_or_else(|e| panic!("{n} B: {e}"));
        assert_eq!(got.len(), n);
        assert!(got == body, "echo of {n} B differs");
        // response larger than the request
        let got = call(ep, peer, OPC_SIZED, (n as u64).to_le_bytes().to_vec(), T).unwrap();
        assert!(got == pattern(n as u64, n), "sized reply of {n} B differs");
    }
}

fn oneway(ep: &mut Endpoint, uri: &str) {
    let peer = ep.lookup(uri).unwrap();
    let mut ops = Vec::new();
    let mut total = 0u64;
    let mut last = Vec::new();
    for n in [0usize, 10, 1000, 200_000] {
        last = pattern(7 + n as u64, n);
        total += n as u64;
        ops.push(ep.send_oneway(peer, OPC_ONEWAY, last.clone(), Some(T), 0u64).unwrap());
    }
    for op in ops {
        wait_op(ep, op).unwrap();
    }
    // The stats request is ordered after the one-way messages only if they were received;
    // poll until the server saw all of them.
    let start = Instant::now();
    loop {
        let s = call(ep, peer, OPC_STATS, Vec::new(), T).unwrap();
        let v: Vec<u64> = s.chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
        if v[0] >= 4 {
            assert_eq!(v, vec![4, total, fnv(&last)]);
            break;
        }
        assert!(start.elapsed() < T, "one-way messages lost: {v:?}");
    }
}

/// Bulk GET and PUT of 1 MiB+ with offsets, the local handle in several segments.
fn bulk(ep: &mut Endpoint, uri: &str, bind: bool) {
    let peer = ep.lookup(uri).unwrap();
    let len = (1 << 20) + 12345u64;
    // Server GETs from our 3-segment handle at an offset.
    let src = pattern(11, (len + 1000) as usize);
    let segs = vec![src[..300_000].to_vec(), src[300_000..300_001].to_vec(), src[300_001..].to_vec()];
    let h = ep.bulk_create(segs, BulkPerm::ReadOnly).unwrap();
    assert_eq!(ep.bulk_len(h).unwrap(), (len + 1000, 3));
    let desc = ep.bulk_desc(h, bind).unwrap();
    let (back, used) = BulkDesc::from_bytes(&desc.to_bytes()).unwrap();
    assert_eq!((back.clone(), used), (desc.clone(), desc.to_bytes().len()));
    for (roff, loff) in [(0u64, 0u64), (999, 17)] {
        let got = call(ep, peer, OPC_BULK_GET, bulk_body(roff, len, loff, &desc), T).unwrap();
        let expect = fnv(&src[roff as usize..(roff + len) as usize]);
        assert_eq!(u64::from_le_bytes(got.try_into().unwrap()), expect, "GET at {roff}/{loff}");
    }
    // Read-only: a PUT into it is refused by the peer's transport.
    let e = call(ep, peer, OPC_BULK_PUT, bulk_body(0, 10, 1, &desc), T).unwrap_err();
    assert_eq!(e, Error::Remote(der::DER_INVAL));
    // Out of range: refused.
    let e = call(ep, peer, OPC_BULK_GET, bulk_body(1001, len, 0, &desc), T).unwrap_err();
    assert_eq!(e, Error::Remote(der::DER_OVERFLOW));
    ep.bulk_free(h).unwrap();

    // Server PUTs into our 2-segment handle at an offset.
    let dst = ep.bulk_create(vec![vec![0u8; 700_000], vec![0u8; 700_000]], BulkPerm::WriteOnly).unwrap();
    let desc = ep.bulk_desc(dst, bind).unwrap();
    let off = 4321u64;
    call(ep, peer, OPC_BULK_PUT, bulk_body(off, len, 99, &desc), T).unwrap();
    let segs = ep.bulk_segments(dst).unwrap();
    let all: Vec<u8> = segs.iter().flat_map(|s| s.iter().copied()).collect();
    assert!(all[..off as usize].iter().all(|&b| b == 0));
    assert!(all[off as usize..(off + len) as usize] == pattern(99, len as usize)[..], "PUT data differs");
    assert!(all[(off + len) as usize..].iter().all(|&b| b == 0));
    ep.bulk_free(dst).unwrap();
    assert_eq!(ep.bulk_free(dst).unwrap_err(), Error::NotFound);
}

/// Local bulk transfers against the server's memory: we GET and PUT ourselves.
fn bulk_local_side(ep: &mut Endpoint) {
    // Two handles on this endpoint; transfer between them through loopback RMA to ourselves.
    let uri = ep.uri().to_owned();
    let me = ep.lookup(&uri).unwrap();
    let a = ep.bulk_create(vec![pattern(5, 1 << 21)], BulkPerm::ReadWrite).unwrap();
    let b = ep.bulk_create(vec![vec![0u8; 1 << 20], vec![0u8; (1 << 20) + 10]], BulkPerm::ReadWrite).unwrap();
    let da = ep.bulk_desc(a, false).unwrap();
    let op = ep.bulk_transfer(BulkOp::Get, Some(me), &da, 100, b, 5, (1 << 21) - 100, 0u64).unwrap();
    // busy while in flight
    assert_eq!(ep.bulk_segments(b).unwrap_err(), Error::Busy);
    wait_op(ep, op).unwrap();
    let src = pattern(5, 1 << 21);
    let got: Vec<u8> = ep.bulk_segments(b).unwrap().iter().flat_map(|s| s.iter().copied()).collect();
    assert!(got[5..5 + (1 << 21) - 100] == src[100..]);
    // PUT back a slice into a at offset 0
    let op = ep.bulk_transfer(BulkOp::Put, Some(me), &da, 0, b, 5, 1000, 0u64).unwrap();
    wait_op(ep, op).unwrap();
    let a_now = ep.bulk_segments(a).unwrap()[0][..1000].to_vec();
    assert!(a_now == src[100..1100]);
    // zero-length transfer completes at once
    let op = ep.bulk_transfer(BulkOp::Get, Some(me), &da, 0, b, 0, 0, 0u64).unwrap();
    assert_eq!(wait_op(ep, op).unwrap(), Vec::<u8>::new());
    // abort: the transfer completes at once with -DER_CANCELED (callback), and the handle's
    // memory stays busy until the RMAs already posted are done
    let aborted = Arc::new(AtomicUsize::new(0));
    let flag = aborted.clone();
    let op = ep
        .bulk_transfer(
            BulkOp::Get,
            Some(me),
            &da,
            0,
            b,
            0,
            1 << 21,
            Notify::callback(move |c| {
                assert_eq!(c.result.unwrap_err().der(), der::DER_CANCELED);
                flag.fetch_add(1, Ordering::SeqCst);
            }),
        )
        .unwrap();
    ep.cancel(op).unwrap();
    assert_eq!(aborted.load(Ordering::SeqCst), 1);
    let start = Instant::now();
    while ep.bulk_segments(b).is_err() {
        assert!(start.elapsed() < T, "aborted transfer never released its memory");
        ep.progress(Duration::from_millis(10)).unwrap();
    }
    assert_eq!(ep.in_flight(), 0);
    assert_eq!(ep.bulk_transfer(BulkOp::Get, Some(me), &da, 1, b, 0, 1 << 21, 0u64).unwrap_err(), Error::Overflow);
    assert!(matches!(ep.bulk_transfer(BulkOp::Get, None, &da, 0, b, 0, 1, 0u64), Err(Error::InvalidArg(_))));
    ep.bulk_free(a).unwrap();
    ep.bulk_free(b).unwrap();
}

/// Many requests in flight at once, completions by callback.
fn many_in_flight(ep: &mut Endpoint, uri: &str) {
    let peer = ep.lookup(uri).unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let n = 500usize;
    for i in 0..n {
        let body = pattern(i as u64, i % 3000);
        let d = done.clone();
        ep.send_request(
            peer,
            OPC_ECHO,
            body.clone(),
            Some(T),
            Notify::callback(move |c| {
                assert!(c.result.unwrap() == body, "reply {i} differs");
                d.fetch_add(1, Ordering::SeqCst);
            }),
        )
        .unwrap();
    }
    assert_eq!(ep.in_flight(), n);
    let start = Instant::now();
    while done.load(Ordering::SeqCst) < n {
        assert!(start.elapsed() < T, "only {} of {n} replies", done.load(Ordering::SeqCst));
        ep.progress(Duration::from_millis(200)).unwrap();
    }
    assert_eq!(ep.in_flight(), 0);
    assert!(ep.flush(T).unwrap());
}

/// A peer that never answers: the request times out (-DER_TIMEDOUT); an error status; cancel.
fn failures(ep: &mut Endpoint, uri: &str) {
    let peer = ep.lookup(uri).unwrap();
    let t0 = Instant::now();
    let e = call(ep, peer, OPC_SILENT, b"hello".to_vec(), Duration::from_millis(300)).unwrap_err();
    assert_eq!(e, Error::TimedOut);
    assert_eq!(e.der(), der::DER_TIMEDOUT);
    assert!(t0.elapsed() >= Duration::from_millis(300) && t0.elapsed() < Duration::from_secs(5));
    // a large request that is never answered times out too (and its rendezvous is released)
    let e = call(ep, peer, OPC_SILENT, vec![1u8; 300_000], Duration::from_millis(200)).unwrap_err();
    assert_eq!(e.der(), der::DER_TIMEDOUT);
    let e = call(ep, peer, OPC_ERROR, Vec::new(), T).unwrap_err();
    assert_eq!(e, Error::Remote(-1003));
    assert_eq!(e.der(), -1003);
    let e = call(ep, peer, 777, Vec::new(), T).unwrap_err();
    assert_eq!(e.der(), -1021);
    // cancel
    let op = ep.send_request(peer, OPC_SILENT, Vec::new(), None, 42u64).unwrap();
    ep.cancel(op).unwrap();
    assert_eq!(ep.cancel(op).unwrap_err(), Error::NotFound);
    match ep.next_event() {
        Some(Event::Completed(c)) => {
            assert_eq!((c.op, c.user), (op, 42));
            assert_eq!(c.result.unwrap_err().der(), der::DER_CANCELED);
        }
        other => panic!("expected the cancel completion, got {other:?}"),
    }
    // the endpoint still works afterwards
    assert_eq!(call(ep, peer, OPC_ECHO, b"ok".to_vec(), T).unwrap(), b"ok");
}

fn in_process(provider: Provider) {
    let srv = ThreadServer::start(provider);
    let mut ep = open(provider);
    assert!(ep.uri().starts_with(&format!("{}://", provider.as_str())), "{}", ep.uri());
    sizes_round_trip(&mut ep, &srv.uri);
    oneway(&mut ep, &srv.uri);
    bulk(&mut ep, &srv.uri, false);
    bulk(&mut ep, &srv.uri, true);
    bulk_local_side(&mut ep);
    many_in_flight(&mut ep, &srv.uri);
    failures(&mut ep, &srv.uri);
    srv.stop(&mut ep);
}

#[test]
fn endpoint_is_send() {
    fn send<T: Send>(_: &T) {}
    let ep = open(Provider::OfiTcp);
    send(&ep);
    let ep = std::thread::spawn(move || ep).join().unwrap();
    assert!(ep.uri().starts_with("ofi+tcp://"));
}

#[test]
fn tcp_in_process() {
    in_process(Provider::OfiTcp);
}

#[test]
fn shm_in_process() {
    in_process(Provider::OfiShm);
}

#[test]
fn tcp_two_processes() {
    let srv = ProcServer::start(PEER, "ofi+tcp", &[]);
    assert!(srv.uri.starts_with("ofi+tcp://127.0.0.1:"), "{}", srv.uri);
    let mut ep = open(Provider::OfiTcp);
    sizes_round_trip(&mut ep, &srv.uri);
    oneway(&mut ep, &srv.uri);
    bulk(&mut ep, &srv.uri, true);
    many_in_flight(&mut ep, &srv.uri);
    failures(&mut ep, &srv.uri);
    srv.stop(&mut ep);
}

#[test]
fn tcp_rxm_name_and_fixed_port() {
    // D_PORT on a server: context 0 listens on it, and the URI says so.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = port.to_string();
    let srv = ProcServer::start(PEER, "ofi+tcp;ofi_rxm", &[("D_PORT", &p)]);
    assert_eq!(srv.uri, format!("ofi+tcp;ofi_rxm://127.0.0.1:{port}"));
    let mut ep = open(Provider::OfiTcp);
    // the ofi+tcp client reaches it through either spelling of the provider
    let peer = ep.lookup(&format!("ofi+tcp://127.0.0.1:{port}")).unwrap();
    assert_eq!(call(&mut ep, peer, OPC_ECHO, b"x".to_vec(), T).unwrap(), b"x");
    srv.stop(&mut ep);
}

#[test]
fn shm_two_processes() {
    let srv = ProcServer::start(PEER, "ofi+shm", &[]);
    assert!(srv.uri.starts_with("ofi+shm://"), "{}", srv.uri);
    let mut ep = open(Provider::OfiShm);
    sizes_round_trip(&mut ep, &srv.uri);
    bulk(&mut ep, &srv.uri, true);
    many_in_flight(&mut ep, &srv.uri);
    srv.stop(&mut ep);
}

#[test]
fn context_ports_and_config() {
    let mut cfg = tcp_config(true);
    let base = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    cfg.port = Some(base.min(60000));
    let base = cfg.port.unwrap();
    let e0 = Endpoint::open(&cfg, &EndpointOptions::default()).unwrap();
    let e1 = Endpoint::open(&cfg, &EndpointOptions { ctx_idx: 1, ..Default::default() });
    assert_eq!(e0.uri(), format!("ofi+tcp://127.0.0.1:{base}"));
    if let Ok(e1) = &e1 {
        assert_eq!(e1.uri(), format!("ofi+tcp://127.0.0.1:{}", base + 1));
    }
    // the same port twice: the second endpoint fails (as HG init does: -DER_HG)
    let e = Endpoint::open(&cfg, &EndpointOptions::default()).unwrap_err();
    assert_eq!(e.der(), der::DER_HG, "{e}");
    // bad interface and bad index
    let mut bad = tcp_config(false);
    bad.interfaces = vec!["no-such-if0".into()];
    assert_eq!(Endpoint::open(&bad, &EndpointOptions::default()).unwrap_err().der(), der::DER_INVAL);
    let e = Endpoint::open(&tcp_config(false), &EndpointOptions { iface_idx: 3, ..Default::default() }).unwrap_err();
    assert_eq!(e.der(), der::DER_INVAL);
    let e = Endpoint::open(&tcp_config(false), &EndpointOptions { eager_size: 10, ..Default::default() }).unwrap_err();
    assert_eq!(e.der(), der::DER_INVAL);
    // D_DOMAIN: the libfabric domain, for tcp the interface's name
    let mut dom = tcp_config(false);
    dom.domains = vec!["lo".into()];
    assert!(Endpoint::open(&dom, &EndpointOptions::default()).unwrap().uri().starts_with("ofi+tcp://127.0.0.1:"));
    dom.domains = vec!["no-such-domain".into()];
    assert_eq!(Endpoint::open(&dom, &EndpointOptions::default()).unwrap_err().der(), der::DER_HG);
    // from the environment-style variables
    let c = NetConfig::from_vars(false, |k| match k {
        "D_PROVIDER" => Some("ofi+tcp".into()),
        "D_INTERFACE" => Some("lo".into()),
        _ => None,
    })
    .unwrap();
    let ep = Endpoint::open(&c, &EndpointOptions::default()).unwrap();
    assert!(ep.uri().starts_with("ofi+tcp://127.0.0.1:"));
    assert!(ep.wait_fd().is_some());
}

#[test]
fn bad_uris_and_unreachable_peer() {
    let mut ep = open(Provider::OfiTcp);
    for u in ["", "garbage", "ofi+tcp://", "ofi+tcp://127.0.0.1", "ofi+tcp://1.2.3:4", "ofi+verbs://1.2.3.4:5", "ofi+shm://12:0:0"] {
        let e = ep.lookup(u).unwrap_err();
        assert_eq!(e.der(), der::DER_INVAL, "{u:?}: {e}");
    }
    // a port nobody listens on: the request fails (unreachable) or times out, never hangs
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let peer = ep.lookup(&format!("ofi+tcp://127.0.0.1:{port}")).unwrap();
    assert_eq!(ep.peer_uri(peer).unwrap(), format!("ofi+tcp://127.0.0.1:{port}"));
    let e = call(&mut ep, peer, OPC_ECHO, b"x".to_vec(), Duration::from_secs(2)).unwrap_err();
    assert!(matches!(e, Error::Unreachable | Error::TimedOut), "{e:?}");
    let op = ep.send_oneway(peer, OPC_ONEWAY, vec![3u8; 100_000], Some(Duration::from_millis(300)), 0u64).unwrap();
    let e = wait_op(&mut ep, op).unwrap_err();
    assert!(matches!(e, Error::Unreachable | Error::TimedOut), "{e:?}");
    // the endpoint is still fine: talk to ourselves
    let me = ep.uri().to_owned();
    let me = ep.lookup(&me).unwrap();
    let op = ep.send_request(me, 5, b"self".to_vec(), Some(T), 1u64).unwrap();
    let start = Instant::now();
    let mut answered = false;
    while start.elapsed() < T {
        ep.progress(Duration::from_millis(100)).unwrap();
        while let Some(ev) = ep.next_event() {
            match ev {
                Event::Request(mut r) => {
                    assert_eq!((r.opcode, &r.body[..]), (5, &b"self"[..]));
                    ep.respond(r.reply.take().unwrap(), b"me".to_vec()).unwrap();
                }
                Event::Completed(c) => {
                    assert_eq!(c.op, op);
                    assert_eq!(c.result.unwrap(), b"me");
                    answered = true;
                }
            }
        }
        if answered {
            break;
        }
    }
    assert!(answered);
}

#[test]
fn progress_blocks_without_spinning() {
    let mut ep = open(Provider::OfiTcp);
    let t0 = Instant::now();
    let cpu0 = cpu_time();
    assert_eq!(ep.progress(Duration::from_millis(300)).unwrap(), 0);
    let waited = t0.elapsed();
    let cpu = cpu_time() - cpu0;
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(cpu < Duration::from_millis(100), "progress spun: {cpu:?} CPU in {waited:?}");
}

fn cpu_time() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let f: Vec<&str> = s.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// Dropping endpoints with requests, rendezvous and bulk transfers in flight is clean.
#[test]
fn drop_with_operations_in_flight() {
    let mut srv = open(Provider::OfiTcp);
    let mut ep = open(Provider::OfiTcp);
    let peer = ep.lookup(srv.uri()).unwrap();
    let me_uri = ep.uri().to_owned();
    let me = ep.lookup(&me_uri).unwrap();
    for i in 0..20 {
        ep.send_request(peer, OPC_SILENT, vec![i as u8; if i % 2 == 0 { 10 } else { 500_000 }], None, 0u64).unwrap();
    }
    let a = ep.bulk_create(vec![vec![1u8; 4 << 20]], BulkPerm::ReadWrite).unwrap();
    let b = ep.bulk_create(vec![vec![0u8; 4 << 20]], BulkPerm::ReadWrite).unwrap();
    let da = ep.bulk_desc(a, false).unwrap();
    ep.bulk_transfer(BulkOp::Get, Some(me), &da, 0, b, 0, 4 << 20, 0u64).unwrap();
    ep.bulk_free(a).unwrap();
    ep.bulk_free(b).unwrap();
    // some progress on both sides, so the server is mid-way through rendezvous reads
    for _ in 0..5 {
        ep.progress(Duration::from_millis(5)).unwrap();
        srv.progress(Duration::from_millis(5)).unwrap();
    }
    assert!(ep.in_flight() >= 20);
    assert!(!ep.flush(Duration::from_millis(50)).unwrap(), "silent requests cannot flush");
    drop(ep);
    // the server survives its peer going away
    for _ in 0..5 {
        srv.progress(Duration::from_millis(10)).unwrap();
    }
    while let Some(ev) = srv.next_event() {
        assert!(matches!(ev, Event::Request(_)), "{ev:?}");
    }
    drop(srv);
}

/// A peer process that dies (SIGKILL, with a request of ours pending and one sent after its
/// death) delays nothing else: each request to a live peer completes within one short wait of
/// a 1 s progress call, and an idle progress afterwards blocks without spinning (the wait fd is
/// not left readable by the dead connection).
#[test]
fn peer_death_delays_no_one() {
    let live = ThreadServer::start(Provider::OfiTcp);
    let mut ep = open(Provider::OfiTcp);
    let pl = ep.lookup(&live.uri).unwrap();
    assert_eq!(call(&mut ep, pl, OPC_ECHO, b"a".to_vec(), T).unwrap(), b"a");
    let mut worst = Duration::ZERO;
    for round in 0..3 {
        let dying = ProcServer::start(PEER, "ofi+tcp", &[]);
        let pd = ep.lookup(&dying.uri).unwrap();
        assert_eq!(call(&mut ep, pd, OPC_ECHO, b"d".to_vec(), T).unwrap(), b"d");
        let pending = ep.send_request(pd, OPC_SILENT, Vec::new(), Some(Duration::from_secs(2)), 7u64).unwrap();
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(dying.child_id() as i32, libc::SIGKILL) }, 0);
        std::thread::sleep(Duration::from_millis(50));
        let after = ep.send_request(pd, OPC_ECHO, vec![round], Some(Duration::from_secs(2)), 8u64).unwrap();
        let mut dead_done = 0;
        for k in 0..20u8 {
            let op = ep.send_request(pl, OPC_ECHO, vec![k], Some(T), 1u64).unwrap();
            let t0 = Instant::now();
            let mut got = None;
            while got.is_none() {
                ep.progress(Duration::from_secs(1)).unwrap();
                while let Some(ev) = ep.next_event() {
                    if let Event::Completed(c) = ev {
                        if c.op == op {
                            got = Some(c.result);
                        } else if c.op == pending || c.op == after {
                            assert!(c.result.is_err());
                            dead_done += 1;
                        }
                    }
                }
            }
            worst = worst.max(t0.elapsed());
            assert_eq!(got.unwrap().unwrap(), vec![k]);
        }
        // the requests to the dead peer fail (unreachable, canceled or timed out), in time
        let t0 = Instant::now();
        while dead_done < 2 {
            assert!(t0.elapsed() < Duration::from_secs(5), "requests to the dead peer never ended");
            ep.progress(Duration::from_millis(100)).unwrap();
            while let Some(ev) = ep.next_event() {
                if let Event::Completed(c) = ev {
                    if c.op == pending || c.op == after {
                        assert!(c.result.is_err());
                        dead_done += 1;
                    }
                }
            }
        }
        drop(dying);
    }
    assert!(worst < Duration::from_millis(100), "a request to a live peer took {worst:?}");
    let t0 = Instant::now();
    let cpu0 = cpu_time();
    let _ = ep.progress(Duration::from_millis(300)).unwrap();
    let cpu = cpu_time() - cpu0;
    assert!(cpu < Duration::from_millis(100), "idle progress after a peer died spun: {cpu:?} CPU in {:?}", t0.elapsed());
    live.stop(&mut ep);
}
