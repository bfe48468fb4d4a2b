//! Shared by the transport tests, the peer binary and the benchmark: a test server speaking a
//! few opcodes, and client helpers.
#![allow(dead_code)]
use std::collections::HashMap;
use std::time::{Duration, Instant};

use cart::transport::{
    BulkDesc, BulkId, BulkOp, BulkPerm, Endpoint, EndpointOptions, Event, NetConfig, OpId, Peer, Provider, ReplyToken,
    Result,
};

/// Reply with the request body.
pub const OPC_ECHO: u32 = 1;
/// Never reply.
pub const OPC_SILENT: u32 = 2;
/// Reply with error -DER_INVAL.
pub const OPC_ERROR: u32 = 3;
/// One-way: counted.
pub const OPC_ONEWAY: u32 = 4;
/// Reply with (count, total bytes, hash of the last) of the one-way messages seen.
pub const OPC_STATS: u32 = 5;
/// Body: remote_off, len, local_off (u64 each) + a bulk descriptor: the server GETs `len`
/// bytes from the descriptor at remote_off into its buffer at local_off and replies with the
/// hash of what it got.
pub const OPC_BULK_GET: u32 = 6;
/// Body: remote_off, len, seed + descriptor: the server PUTs pattern(seed, len) there.
/// With NO_CHECK set in the third word (benchmarks), GET replies without hashing and PUT
/// sends zeroes.
pub const OPC_BULK_PUT: u32 = 7;
/// Reply with a body of the u64 length asked for, pattern(length).
pub const OPC_SIZED: u32 = 8;
pub const OPC_SHUTDOWN: u32 = 9;
pub const NO_CHECK: u64 = 1 << 63;
/// Reply with an empty body.
pub const OPC_SINK: u32 = 10;

pub fn pattern(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub fn fnv(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in b {
        h ^= c as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap())
}

pub fn bulk_body(a: u64, b: u64, c: u64, desc: &BulkDesc) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [a, b, c] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.extend_from_slice(&desc.to_bytes());
    v
}

/// A loopback tcp configuration (server: `service`).
pub fn tcp_config(service: bool) -> NetConfig {
    let mut c = NetConfig::new(Provider::OfiTcp);
    c.interfaces = vec!["lo".into()];
    c.service = service;
    c
}

pub fn open(provider: Provider) -> Endpoint {
    let cfg = if provider == Provider::OfiShm { NetConfig::new(Provider::OfiShm) } else { tcp_config(false) };
    Endpoint::open(&cfg, &EndpointOptions::default()).expect("open endpoint")
}

/// Serves requests until OPC_SHUTDOWN or `max` passes.
pub fn serve(ep: &mut Endpoint, max: Duration) {
    let start = Instant::now();
    let mut pending: HashMap<u64, (ReplyToken, BulkId, Option<usize>)> = HashMap::new();
    let mut next = 1u64;
    let (mut ow_count, mut ow_bytes, mut ow_hash) = (0u64, 0u64, 0u64);
    let mut silent = Vec::new();
    let mut stop_at: Option<Instant> = None;
    while start.elapsed() < max {
        if stop_at.is_some_and(|t| Instant::now() >= t) {
            // the shutdown reply (and any rendezvous copies) must have left before we go
            let _ = ep.flush(Duration::from_secs(2));
            break;
        }
        ep.progress(Duration::from_millis(50)).expect("server progress");
        while let Some(ev) = ep.next_event() {
            match ev {
                Event::Request(mut inc) => {
                    let tok = inc.reply.take();
                    match inc.opcode {
                        OPC_ECHO => ep.respond(tok.unwrap(), inc.body).unwrap(),
                        OPC_SILENT => silent.push(tok),
                        OPC_SINK => ep.respond(tok.unwrap(), Vec::new()).unwrap(),
                        OPC_ERROR => ep.respond_error(tok.unwrap(), -1003).unwrap(),
                        OPC_ONEWAY => {
                            ow_count += 1;
                            ow_bytes += inc.body.len() as u64;
                            ow_hash = fnv(&inc.body);
                        }
                        OPC_STATS => {
                            let mut v = Vec::new();
                            for x in [ow_count, ow_bytes, ow_hash] {
                                v.extend_from_slice(&x.to_le_bytes());
                            }
                            ep.respond(tok.unwrap(), v).unwrap();
                        }
                        OPC_SIZED => {
                            let n = u64_at(&inc.body, 0) as usize;
                            ep.respond(tok.unwrap(), pattern(n as u64, n)).unwrap();
                        }
                        OPC_BULK_GET | OPC_BULK_PUT => {
                            let (a, len, c) = (u64_at(&inc.body, 0), u64_at(&inc.body, 1), u64_at(&inc.body, 2));
                            let check = c & NO_CHECK == 0;
                            let c = c & !NO_CHECK;
                            let (desc, _) = BulkDesc::from_bytes(&inc.body[24..]).unwrap();
                            let get = inc.opcode == OPC_BULK_GET;
                            let (buf, local_off) = if get {
                                (vec![0u8; (c + len) as usize], c)
                            } else if check {
                                (pattern(c, len as usize), 0)
                            } else {
                                (vec![0u8; len as usize], 0)
                            };
                            let h = ep.bulk_create(vec![buf], BulkPerm::ReadWrite).unwrap();
                            let op = if get { BulkOp::Get } else { BulkOp::Put };
                            let user = next;
                            next += 1;
                            let peer = if desc.is_bound() { None } else { Some(inc.peer) };
                            match ep.bulk_transfer(op, peer, &desc, a, h, local_off, len, user) {
                                Ok(_) => {
                                    pending.insert(user, (tok.unwrap(), h, (get && check).then_some(c as usize)));
                                }
                                Err(e) => {
                                    ep.respond_error(tok.unwrap(), e.der()).unwrap();
                                    ep.bulk_free(h).unwrap();
                                }
                            }
                        }
                        OPC_SHUTDOWN => {
                            ep.respond(tok.unwrap(), Vec::new()).unwrap();
                            stop_at = Some(Instant::now());
                        }
                        _ => {
                            if let Some(t) = tok {
                                ep.respond_error(t, -1021).unwrap();
                            }
                        }
                    }
                }
                Event::Completed(c) => {
                    let Some((tok, h, get_off)) = pending.remove(&c.user) else { continue };
                    match c.result {
                        Ok(_) => {
                            let body = match get_off {
                                Some(off) => {
                                    let segs = ep.bulk_segments(h).unwrap();
                                    fnv(&segs[0][off..]).to_le_bytes().to_vec()
                                }
                                None => Vec::new(),
                            };
                            ep.respond(tok, body).unwrap();
                        }
                        Err(e) => ep.respond_error(tok, e.der()).unwrap(),
                    }
                    ep.bulk_free(h).unwrap();
                }
            }
        }
    }
}

/// Runs progress until operation `op` completes; other completions are returned in `others`.
pub fn wait_op(ep: &mut Endpoint, op: OpId) -> Result<Vec<u8>> {
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(30), "operation {op:?} never completed");
        ep.progress(Duration::from_millis(500))?;
        while let Some(ev) = ep.next_event() {
            if let Event::Completed(c) = ev {
                if c.op == op {
                    return c.result;
                }
            }
        }
    }
}

pub fn call(ep: &mut Endpoint, peer: Peer, opc: u32, body: Vec<u8>, timeout: Duration) -> Result<Vec<u8>> {
    let op = ep.send_request(peer, opc, body, Some(timeout), 0u64)?;
    wait_op(ep, op)
}

/// A server endpoint in a thread of this process.
pub struct ThreadServer {
    pub uri: String,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ThreadServer {
    pub fn start(provider: Provider) -> ThreadServer {
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            let mut ep = open(provider);
            tx.send(ep.uri().to_owned()).unwrap();
            serve(&mut ep, Duration::from_secs(50));
        });
        let uri = rx.recv().expect("server started");
        ThreadServer { uri, handle: Some(handle) }
    }

    /// Asks the server to stop (through `ep`) and joins it.
    pub fn stop(mut self, ep: &mut Endpoint) {
        let peer = ep.lookup(&self.uri).unwrap();
        call(ep, peer, OPC_SHUTDOWN, Vec::new(), Duration::from_secs(10)).unwrap();
        self.handle.take().unwrap().join().unwrap();
    }
}

/// A server in a child process (the `cart_transport_peer` binary), killed when dropped.
pub struct ProcServer {
    pub uri: String,
    child: std::process::Child,
}

impl ProcServer {
    pub fn start(exe: &str, provider: &str, extra_env: &[(&str, &str)]) -> ProcServer {
        use std::io::BufRead;
        let mut cmd = std::process::Command::new(exe);
        cmd.env("D_PROVIDER", provider)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        if provider != "ofi+shm" {
            cmd.env("D_INTERFACE", "lo");
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn peer");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        let uri = line.trim().strip_prefix("URI ").unwrap_or_else(|| panic!("peer said {line:?}")).to_owned();
        ProcServer { uri, child }
    }

    /// The child's process id (to kill it: a peer that dies).
    pub fn child_id(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(mut self, ep: &mut Endpoint) {
        let peer = ep.lookup(&self.uri).unwrap();
        call(ep, peer, OPC_SHUTDOWN, Vec::new(), Duration::from_secs(10)).unwrap();
        // Keep its stdin open until it exits by itself (closing it makes the peer exit at
        // once, before its endpoint is closed).
        let stdin = self.child.stdin.take();
        let start = Instant::now();
        let st = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "peer did not exit");
            std::thread::sleep(Duration::from_millis(10));
        };
        drop(stdin);
        assert!(st.success(), "peer exit status {st}");
    }
}

impl Drop for ProcServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
