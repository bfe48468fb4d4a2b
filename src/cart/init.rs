//! Process-wide CaRT state (upstream `crt_init.c`): initialisation with its reference count,
//! the settings read from `crt_init_options_t` and the environment, the context slots, and
//! the event callbacks.
//!
//! Settings follow upstream's rule: an option field that is set (non-zero, non-NULL) wins over
//! the environment variable of the same meaning; unset fields fall back to the environment,
//! then to the built-in default.
use crate::context::Context;
use crate::transport::{der, NetConfig};
use std::sync::{Arc, Mutex, MutexGuard};

/// Most contexts a process may create (upstream `CRT_SRV_CONTEXT_NUM`).
pub const CRT_SRV_CONTEXT_NUM: u32 = 128;
/// Smallest client context limit (upstream `CRT_SRV_CONTEXT_NUM_MIN`: 16 targets + 2).
pub const CRT_SRV_CONTEXT_NUM_MIN: u32 = 18;
pub const CRT_TIMEOUT_DEFAULT: u32 = 60;
pub const CRT_TIMEOUT_MAX: u32 = 3600;
pub const CRT_DEFAULT_CREDITS_PER_EP_CTX: u32 = 32;
/// Upstream `CRT_HG_PROGRESS_SPINDOWN_MS`: how long progress polls instead of sleeping after it
/// delivered something (`D_PROGRESS_SPINDOWN`).
pub const CRT_HG_PROGRESS_SPINDOWN_MS: u32 = 10;
pub const CRT_MAX_CREDITS_PER_EP_CTX: u32 = 256;
pub const CRT_QUOTA_RPCS_DEFAULT: u32 = 64;
pub const CRT_QUOTA_BULKS_DEFAULT: u32 = 64;
/// Longest value of a string variable, NUL included (upstream `CRT_ENV_STR_MAX_SIZE`).
pub const CRT_ENV_STR_MAX_SIZE: usize = 1024;
/// Context carrying SWIM unless told otherwise (upstream `CRT_DEFAULT_PROGRESS_CTX_IDX`).
pub const CRT_DEFAULT_PROGRESS_CTX_IDX: i32 = 1;
/// Longest group name (upstream `CRT_GROUP_ID_MAX_LEN`).
pub const CRT_GROUP_ID_MAX_LEN: usize = 64;
pub const CRT_DEFAULT_GRPID: &str = "crt_default_group";

/// DER_* codes this layer returns that the transport has no use for.
pub const DER_EXIST: i32 = -1004;
pub const DER_AGAIN: i32 = -1013;
pub const DER_UNINIT: i32 = -1015;
pub const DER_UNREG: i32 = -1021;

/// `CRT_FLAG_BIT_SERVER`, `CRT_FLAG_BIT_AUTO_SWIM_DISABLE`.
pub const FLAG_SERVER: u32 = 1;
pub const FLAG_AUTO_SWIM_DISABLE: u32 = 2;

/// The string variables upstream checks against [`CRT_ENV_STR_MAX_SIZE`] (its `ENV_STR` list).
const STR_ENVS: &[&str] = &[
    "CRT_ATTACH_INFO_PATH",
    "CRT_L_GRP_CFG",
    "DAOS_TEST_SHARED_DIR",
    "DD_MASK",
    "DD_STDERR",
    "DD_SUBSYS",
    "D_ADDR_FORMAT",
    "D_CLIENT_METRICS_DUMP_DIR",
    "D_DOMAIN",
    "D_FI_CONFIG",
    "D_INTERFACE",
    "D_LOG_FILE",
    "D_LOG_FILE_APPEND_PID",
    "D_LOG_FILE_APPEND_RANK",
    "D_LOG_FLUSH",
    "D_LOG_MASK",
    "D_LOG_SIZE",
    "D_PORT",
    "D_PROVIDER",
    "D_PROVIDER_AUTH_KEY",
    "SLINGSHOT_VNIS",
    "SWIM_TRAFFIC_CLASS",
    "UCX_IB_FORK_INIT",
];

/// The fields of `crt_init_options_t`, as Rust values (`None`/0/false: not set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitOptions {
    pub crt_timeout: i32,
    pub fault_inject: bool,
    pub use_sensors: bool,
    pub ctx_max_num: i32,
    pub ep_credits: i32,
    pub max_expected_size: Option<u32>,
    pub max_unexpected_size: Option<u32>,
    pub swim_crt_idx: i32,
    pub provider: Option<String>,
    pub interface: Option<String>,
    pub domain: Option<String>,
    pub port: Option<String>,
    pub auth_key: Option<String>,
    pub addr_format: Option<String>,
    pub thread_mode_single: bool,
    pub progress_busy: bool,
    pub mem_device: bool,
    pub progress_legacy: bool,
    pub progress_spindown: u32,
}

/// Upstream's `d_getenv_uint`: an unsigned 32-bit decimal; anything else leaves the default.
fn env_uint(get: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<u32> {
    let v = get(name)?;
    let t = v.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<u32>().ok()
}

fn env_bool(get: &dyn Fn(&str) -> Option<String>, name: &str) -> bool {
    env_uint(get, name).is_some_and(|v| v != 0)
}

/// Upstream's `crt_validate_grpid`: 1..=63 printable characters, none of `;"`'\`.
pub fn validate_grpid(id: &[u8]) -> bool {
    if id.is_empty() || id.len() > CRT_GROUP_ID_MAX_LEN {
        return false;
    }
    id.iter().all(|&c| (b' '..=b'~').contains(&c) && !matches!(c, b';' | b'"' | b'`' | b'\'' | b'\\'))
}

/// Settings of an initialised CaRT (upstream's `crt_gdata` fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub server: bool,
    pub auto_swim_disable: bool,
    pub grpid: String,
    pub timeout_sec: u32,
    pub credits: u32,
    pub ctx_max_num: u32,
    pub rpc_quota: u32,
    pub bulk_quota: u32,
    pub swim_ctx_idx: i32,
    pub max_expected_size: u32,
    pub max_unexpected_size: u32,
    pub use_sensors: bool,
    pub fault_inject: bool,
    pub thread_mode_single: bool,
    pub progress_busy: bool,
    pub mem_device: bool,
    pub progress_legacy: bool,
    pub progress_spindown: u32,
    pub auth_key: Option<String>,
    pub addr_format: Option<String>,
    pub attach_info_path: Option<String>,
    pub net: NetConfig,
}

impl Settings {
    /// Upstream's `data_init` + `crt_init_opt` checks, with variables read through `get`.
    /// Errors: -DER_INVAL (bad group name, over-long string variable, no provider, several
    /// providers on a client, mismatched lists), -DER_NONEXIST (unknown provider),
    /// -DER_NOSYS (a provider this transport does not carry).
    pub fn resolve(
        grpid: Option<&[u8]>,
        flags: u32,
        opt: Option<&InitOptions>,
        get: &dyn Fn(&str) -> Option<String>,
        num_cores: u32,
    ) -> Result<Settings, i32> {
        let server = flags & FLAG_SERVER != 0;
        let grpid = match grpid {
            None => CRT_DEFAULT_GRPID.to_owned(),
            Some(g) => {
                if !validate_grpid(g) || g == CRT_DEFAULT_GRPID.as_bytes() {
                    return Err(der::DER_INVAL);
                }
                String::from_utf8_lossy(g).into_owned()
            }
        };
        for name in STR_ENVS {
            if get(name).is_some_and(|v| v.len() + 1 > CRT_ENV_STR_MAX_SIZE) {
                return Err(der::DER_INVAL);
            }
        }
        let o = opt.cloned().unwrap_or_default();

        let t = if o.crt_timeout != 0 { o.crt_timeout as u32 } else { env_uint(get, "CRT_TIMEOUT").unwrap_or(0) };
        let timeout_sec = match t {
            0 => CRT_TIMEOUT_DEFAULT,
            t if t > CRT_TIMEOUT_MAX => CRT_TIMEOUT_MAX,
            t => t,
        };
        let credits = if o.ep_credits != 0 {
            o.ep_credits as u32
        } else {
            env_uint(get, "CRT_CREDIT_EP_CTX").unwrap_or(CRT_DEFAULT_CREDITS_PER_EP_CTX)
        }
        .min(CRT_MAX_CREDITS_PER_EP_CTX);

        let ctx_max_num = if server {
            CRT_SRV_CONTEXT_NUM
        } else {
            let mut n = if o.ctx_max_num != 0 { o.ctx_max_num as u32 } else { env_uint(get, "CRT_CTX_NUM").unwrap_or(0) };
            if n == 0 {
                n = num_cores;
            }
            n.clamp(CRT_SRV_CONTEXT_NUM_MIN, CRT_SRV_CONTEXT_NUM)
        };

        let rpc_quota = env_uint(get, "D_QUOTA_RPCS").unwrap_or(if server { 0 } else { CRT_QUOTA_RPCS_DEFAULT });
        let mut bulk_quota = env_uint(get, "D_QUOTA_BULKS").unwrap_or(if server { 0 } else { CRT_QUOTA_BULKS_DEFAULT });
        if server {
            // servers always need real bulks to receive data
            bulk_quota = 0;
        }

        let pick = |v: &Option<String>, env: &str| -> Option<String> {
            match v {
                Some(s) if !s.is_empty() => Some(s.clone()),
                _ => get(env),
            }
        };
        let provider = pick(&o.provider, "D_PROVIDER");
        let interface = pick(&o.interface, "D_INTERFACE");
        let domain = pick(&o.domain, "D_DOMAIN");
        let port = pick(&o.port, "D_PORT");
        let auth_key = pick(&o.auth_key, "D_PROVIDER_AUTH_KEY");
        let addr_format = pick(&o.addr_format, "D_ADDR_FORMAT");
        let net = NetConfig::from_vars(server, |k| match k {
            "D_PROVIDER" => provider.clone(),
            "D_INTERFACE" => interface.clone(),
            "D_DOMAIN" => domain.clone(),
            "D_PORT" => port.clone(),
            other => get(other),
        })
        .map_err(|e| e.der())?;

        let swim_ctx_idx = if o.swim_crt_idx != 0 { o.swim_crt_idx } else { CRT_DEFAULT_PROGRESS_CTX_IDX };
        let flag = |set: bool, env: &str| set || env_bool(get, env);
        Ok(Settings {
            server,
            auto_swim_disable: flags & FLAG_AUTO_SWIM_DISABLE != 0,
            grpid,
            timeout_sec,
            credits,
            ctx_max_num,
            rpc_quota,
            bulk_quota,
            swim_ctx_idx,
            max_expected_size: o.max_expected_size.unwrap_or(0),
            max_unexpected_size: o.max_unexpected_size.unwrap_or(0),
            use_sensors: o.use_sensors,
            fault_inject: o.fault_inject,
            thread_mode_single: flag(o.thread_mode_single, "D_THREAD_MODE_SINGLE"),
            progress_busy: flag(o.progress_busy, "D_PROGRESS_BUSY"),
            mem_device: flag(o.mem_device, "D_MEM_DEVICE"),
            progress_legacy: flag(o.progress_legacy, "D_PROGRESS_LEGACY"),
            progress_spindown: if o.progress_spindown != 0 {
                o.progress_spindown
            } else {
                env_uint(get, "D_PROGRESS_SPINDOWN").unwrap_or(CRT_HG_PROGRESS_SPINDOWN_MS)
            },
            auth_key,
            addr_format,
            attach_info_path: get("CRT_ATTACH_INFO_PATH").filter(|p| !p.is_empty()),
            net,
        })
    }
}

/// An event callback (`crt_event_cb` and its argument), kept as plain values so this module
/// needs no C types; the C layer turns them back into a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventCb {
    pub func: usize,
    pub arg: usize,
}

/// The initialised state.
pub struct State {
    pub settings: Settings,
    pub refcount: u32,
    /// Slot `i` holds context index `i`.
    pub contexts: Vec<Option<Arc<Context>>>,
}

impl State {
    pub fn ctx_num(&self) -> usize {
        self.contexts.iter().filter(|c| c.is_some()).count()
    }

    pub fn lookup(&self, idx: i32) -> Option<Arc<Context>> {
        usize::try_from(idx).ok().and_then(|i| self.contexts.get(i).cloned().flatten())
    }
}

static STATE: Mutex<Option<State>> = Mutex::new(None);
static EVENT_CBS: Mutex<Vec<EventCb>> = Mutex::new(Vec::new());

/// The process-wide state (poison ignored: no code path leaves it half-updated).
pub fn state() -> MutexGuard<'static, Option<State>> {
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn initialized() -> bool {
    state().is_some()
}

/// Whether this process initialised as a server (`crt_is_service`).
pub fn is_service() -> bool {
    state().as_ref().is_some_and(|s| s.settings.server)
}

/// Upstream's `crt_init_opt` after the settings are resolved: a second call only takes a
/// reference (a client cannot become a server: -DER_INVAL).
pub fn init(settings: Settings) -> Result<(), i32> {
    let mut st = state();
    if let Some(s) = st.as_mut() {
        if !s.settings.server && settings.server {
            return Err(der::DER_INVAL);
        }
        s.refcount += 1;
        return Ok(());
    }
    if let Some(p) = &settings.attach_info_path {
        // Upstream ignores a CRT_ATTACH_INFO_PATH it cannot use.
        let _ = crate::group::config_path_set(p);
    }
    let server = settings.server;
    *st = Some(State { settings, refcount: 1, contexts: Vec::new() });
    crate::internal::register();
    // Upstream registers self-test everywhere, fault injection and ctl in servers.
    crate::self_test::register();
    crate::ctl::register(server);
    Ok(())
}

/// Upstream's `crt_finalize`: -DER_UNINIT before init; the last reference fails with
/// -DER_BUSY while contexts exist (and keeps its reference).
pub fn finalize() -> Result<(), i32> {
    let mut st = state();
    let s = st.as_mut().ok_or(DER_UNINIT)?;
    if s.refcount > 1 {
        s.refcount -= 1;
        return Ok(());
    }
    if s.ctx_num() > 0 {
        return Err(der::DER_BUSY);
    }
    *st = None;
    drop(st);
    crate::crt_swim::fini(); // crt_swim hook
    crate::register::clear();
    crate::self_test::clear();
    crate::group::clear();
    crate::group::clear_attached();
    crate::secondary::clear();
    Ok(())
}

/// Settings of the initialised CaRT, or -DER_UNINIT.
pub fn settings() -> Result<Settings, i32> {
    state().as_ref().map(|s| s.settings.clone()).ok_or(DER_UNINIT)
}

pub fn context_lookup(idx: i32) -> Option<Arc<Context>> {
    state().as_ref().and_then(|s| s.lookup(idx))
}

/// `crt_register_event_cb`: -DER_EXIST when the same function and argument are registered.
pub fn register_event_cb(cb: EventCb) -> Result<(), i32> {
    let mut v = EVENT_CBS.lock().unwrap_or_else(|p| p.into_inner());
    if v.contains(&cb) {
        return Err(DER_EXIST);
    }
    v.push(cb);
    Ok(())
}

/// `crt_unregister_event_cb`: -DER_NONEXIST when not registered.
pub fn unregister_event_cb(cb: EventCb) -> Result<(), i32> {
    let mut v = EVENT_CBS.lock().unwrap_or_else(|p| p.into_inner());
    let i = v.iter().position(|c| *c == cb).ok_or(der::DER_NONEXIST)?;
    v.remove(i);
    Ok(())
}

/// The registered event callbacks, in registration order.
pub fn event_cbs() -> Vec<EventCb> {
    EVENT_CBS.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(kv: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    fn resolve(g: Option<&str>, flags: u32, o: Option<&InitOptions>, kv: &[(&str, &str)]) -> Result<Settings, i32> {
        Settings::resolve(g.map(str::as_bytes), flags, o, &vars(kv), 2)
    }

    #[test]
    fn grpid_rules() {
        assert!(validate_grpid(b"daos_server"));
        assert!(validate_grpid(&[b'a'; 64]));
        assert!(!validate_grpid(&[b'a'; 65]));
        assert!(!validate_grpid(b""));
        for bad in [&b"a;b"[..], b"a\"b", b"a`b", b"a'b", b"a\\b", b"a\nb", b"a\x7fb"] {
            assert!(!validate_grpid(bad), "{bad:?}");
        }
        let p = [("D_PROVIDER", "ofi+tcp")];
        assert_eq!(resolve(Some("crt_default_group"), 0, None, &p).unwrap_err(), der::DER_INVAL);
        assert_eq!(resolve(Some("bad;name"), 0, None, &p).unwrap_err(), der::DER_INVAL);
        assert_eq!(resolve(None, 0, None, &p).unwrap().grpid, CRT_DEFAULT_GRPID);
        assert_eq!(resolve(Some("grp1"), 0, None, &p).unwrap().grpid, "grp1");
    }

    #[test]
    fn defaults_client_and_server() {
        let p = [("D_PROVIDER", "ofi+tcp")];
        let c = resolve(None, 0, None, &p).unwrap();
        assert!(!c.server);
        assert_eq!(c.timeout_sec, 60);
        assert_eq!(c.credits, 32);
        assert_eq!(c.ctx_max_num, 18, "2 cores: raised to the minimum");
        assert_eq!((c.rpc_quota, c.bulk_quota), (64, 64));
        assert_eq!(c.swim_ctx_idx, 1);
        let s = resolve(None, FLAG_SERVER | FLAG_AUTO_SWIM_DISABLE, None, &p).unwrap();
        assert!(s.server && s.auto_swim_disable);
        assert_eq!(s.ctx_max_num, 128);
        assert_eq!((s.rpc_quota, s.bulk_quota), (0, 0));
        let s = resolve(None, FLAG_SERVER, None, &[("D_PROVIDER", "ofi+tcp"), ("D_QUOTA_BULKS", "5"), ("D_QUOTA_RPCS", "7")]).unwrap();
        assert_eq!((s.rpc_quota, s.bulk_quota), (7, 0), "no bulk quota on servers");
    }

    #[test]
    fn env_values_and_clamps() {
        let e = |kv: &[(&str, &str)]| {
            let mut v = vec![("D_PROVIDER", "ofi+tcp")];
            v.extend_from_slice(kv);
            resolve(None, 0, None, &v).unwrap()
        };
        assert_eq!(e(&[("CRT_TIMEOUT", "5")]).timeout_sec, 5);
        assert_eq!(e(&[("CRT_TIMEOUT", "0")]).timeout_sec, 60);
        assert_eq!(e(&[("CRT_TIMEOUT", "99999")]).timeout_sec, 3600);
        assert_eq!(e(&[("CRT_TIMEOUT", "abc")]).timeout_sec, 60);
        assert_eq!(e(&[("CRT_CREDIT_EP_CTX", "0")]).credits, 0);
        assert_eq!(e(&[("CRT_CREDIT_EP_CTX", "1000")]).credits, 256);
        assert_eq!(e(&[("CRT_CTX_NUM", "40")]).ctx_max_num, 40);
        assert_eq!(e(&[("CRT_CTX_NUM", "4")]).ctx_max_num, 18);
        assert_eq!(e(&[("CRT_CTX_NUM", "1000")]).ctx_max_num, 128);
        assert_eq!(e(&[("D_QUOTA_RPCS", "0")]).rpc_quota, 0);
        assert_eq!(e(&[]).progress_spindown, CRT_HG_PROGRESS_SPINDOWN_MS);
        assert_eq!(e(&[("D_PROGRESS_SPINDOWN", "0")]).progress_spindown, 0);
        assert!(e(&[("D_PROGRESS_BUSY", "1")]).progress_busy);
        assert!(!e(&[("D_PROGRESS_BUSY", "0")]).progress_busy);
        assert_eq!(e(&[("D_PROGRESS_SPINDOWN", "7")]).progress_spindown, 7);
        let long = "x".repeat(1024);
        assert_eq!(resolve(None, 0, None, &[("D_PROVIDER", "ofi+tcp"), ("D_LOG_MASK", &long)]).unwrap_err(), der::DER_INVAL);
        assert!(resolve(None, 0, None, &[("D_PROVIDER", "ofi+tcp"), ("D_LOG_MASK", &long[..1023])]).is_ok());
    }

    #[test]
    fn provider_errors() {
        assert_eq!(resolve(None, 0, None, &[]).unwrap_err(), der::DER_INVAL);
        assert_eq!(resolve(None, 0, None, &[("D_PROVIDER", "nope")]).unwrap_err(), der::DER_NONEXIST);
        assert_eq!(resolve(None, 0, None, &[("D_PROVIDER", "ofi+tcp,ofi+shm")]).unwrap_err(), der::DER_INVAL);
        assert!(resolve(None, FLAG_SERVER, None, &[("D_PROVIDER", "ofi+tcp,ofi+shm"), ("D_INTERFACE", "lo,lo")]).is_ok());
    }

    #[test]
    fn options_override_env() {
        let o = InitOptions {
            crt_timeout: 9,
            ep_credits: 3,
            ctx_max_num: 20,
            provider: Some("ofi+tcp".into()),
            interface: Some("lo".into()),
            port: Some("31000".into()),
            swim_crt_idx: 2,
            max_unexpected_size: Some(4096),
            progress_busy: true,
            ..Default::default()
        };
        let s = resolve(None, FLAG_SERVER, Some(&o), &[("D_PROVIDER", "bogus"), ("CRT_TIMEOUT", "4"), ("D_PORT", "1")]).unwrap();
        assert_eq!(s.timeout_sec, 9);
        assert_eq!(s.credits, 3);
        assert_eq!(s.net.interfaces, vec!["lo".to_string()]);
        assert_eq!(s.net.port, Some(31000));
        assert_eq!(s.swim_ctx_idx, 2);
        assert_eq!(s.max_unexpected_size, 4096);
        assert!(s.progress_busy);
        // the option's context limit is for clients only
        assert_eq!(s.ctx_max_num, 128);
        let c = resolve(None, 0, Some(&o), &[]).unwrap();
        assert_eq!(c.ctx_max_num, 20);
    }

    #[test]
    fn event_callbacks() {
        let a = EventCb { func: 0x1000, arg: 1 };
        let b = EventCb { func: 0x1000, arg: 2 };
        register_event_cb(a).unwrap();
        assert_eq!(register_event_cb(a).unwrap_err(), DER_EXIST);
        register_event_cb(b).unwrap();
        assert_eq!(event_cbs(), vec![a, b]);
        unregister_event_cb(a).unwrap();
        assert_eq!(unregister_event_cb(a).unwrap_err(), der::DER_NONEXIST);
        unregister_event_cb(b).unwrap();
        assert!(event_cbs().is_empty());
    }
}
