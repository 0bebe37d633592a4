//! The embedded DNS server of containers on user-defined networks (Docker's 127.0.0.11).
//!
//! One [`NameTable`] per daemon holds, for every endpoint on a user-defined network, the names
//! it answers to (container name, short id, network aliases, compose service). Each container
//! gets its own server ([`serve`]) on sockets bound inside its network namespace (see
//! `berth_kernel::netns::bind_in`), so the server knows who asks and answers only with names on
//! networks the asker shares. Everything else is forwarded, unchanged, to the upstream resolvers
//! (the host's, or the container's `--dns`), from the daemon's own namespace: a loopback
//! upstream such as systemd-resolved's 127.0.0.53 is the host's.
//!
//! Messages are parsed and built with hickory-proto; the serving loop is ours because the
//! lookup is a table scan per asking container, not a zone.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where the server listens inside a container.
pub const DNS_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);
/// Time to live of answers about containers (Docker's is 600; names change when containers
/// come and go, so a short one).
const TTL: u32 = 600;
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(3);

/// The names one container answers to on one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsEntry {
    pub container: String,
    pub network: String,
    pub ip: Ipv4Addr,
    /// Lower-case names without a trailing dot.
    pub names: Vec<String>,
}

impl DnsEntry {
    pub fn new(container: &str, network: &str, ip: Ipv4Addr, names: impl IntoIterator<Item = String>) -> DnsEntry {
        let mut seen = BTreeSet::new();
        let names = names
            .into_iter()
            .map(|n| n.trim_start_matches('/').trim_end_matches('.').to_ascii_lowercase())
            .filter(|n| !n.is_empty() && seen.insert(n.clone()))
            .collect();
        DnsEntry { container: container.into(), network: network.into(), ip, names }
    }
}

/// Names of all endpoints on user-defined networks.
#[derive(Debug, Default)]
pub struct NameTable {
    entries: RwLock<Vec<DnsEntry>>,
}

impl NameTable {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<DnsEntry>> {
        // Writers replace whole entries; a poisoned lock still holds a consistent table.
        self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<DnsEntry>> {
        self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces every entry of `container` with `entries`.
    pub fn set_container(&self, container: &str, entries: Vec<DnsEntry>) {
        let mut t = self.write();
        t.retain(|e| e.container != container);
        t.extend(entries);
    }

    pub fn remove_container(&self, container: &str) {
        self.write().retain(|e| e.container != container);
    }

    /// Whether `container` has an entry (is on a user-defined network).
    pub fn has(&self, container: &str) -> bool {
        self.read().iter().any(|e| e.container == container)
    }

    /// Addresses of `name` on the networks `asker` is on; `None` when no such name is there.
    pub fn lookup(&self, asker: &str, name: &str) -> Option<Vec<Ipv4Addr>> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let t = self.read();
        let mine: BTreeSet<&str> = t.iter().filter(|e| e.container == asker).map(|e| e.network.as_str()).collect();
        let mut out: Vec<Ipv4Addr> =
            t.iter().filter(|e| mine.contains(e.network.as_str()) && e.names.contains(&name)).map(|e| e.ip).collect();
        out.dedup();
        (!out.is_empty()).then_some(out)
    }

    /// The name of `ip` on the networks `asker` is on (for PTR queries).
    pub fn reverse(&self, asker: &str, ip: Ipv4Addr) -> Option<String> {
        let t = self.read();
        let mine: BTreeSet<&str> = t.iter().filter(|e| e.container == asker).map(|e| e.network.as_str()).collect();
        t.iter().find(|e| mine.contains(e.network.as_str()) && e.ip == ip).and_then(|e| e.names.first().cloned())
    }
}

/// One container's server: who asks, the shared table, where to forward the rest.
#[derive(Debug, Clone)]
pub struct Resolver {
    pub container: String,
    pub table: Arc<NameTable>,
    pub upstreams: Vec<SocketAddr>,
}

/// Upstream servers from a resolv.conf text (port 53).
pub fn upstreams(resolv_conf: &str) -> Vec<SocketAddr> {
    resolv_conf
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// `4.3.2.1.in-addr.arpa` → 1.2.3.4.
fn parse_reverse(name: &str) -> Option<Ipv4Addr> {
    let rest = name.trim_end_matches('.').to_ascii_lowercase();
    let octets = rest.strip_suffix(".in-addr.arpa")?;
    let v: Vec<u8> = octets.split('.').map(|o| o.parse().ok()).collect::<Option<_>>()?;
    match v.as_slice() {
        [d, c, b, a] => Some(Ipv4Addr::new(*a, *b, *c, *d)),
        _ => None,
    }
}

impl Resolver {
    /// The local answer to `query`, or `None` when it must be forwarded.
    pub fn answer_locally(&self, query: &Message) -> Option<Message> {
        let mut resp = Message::new();
        resp.set_id(query.id())
            .set_message_type(MessageType::Response)
            .set_op_code(query.op_code())
            .set_recursion_desired(query.recursion_desired())
            .set_recursion_available(true);
        resp.add_queries(query.queries().iter().cloned());
        let [q] = query.queries() else {
            resp.set_response_code(ResponseCode::FormErr);
            return Some(resp);
        };
        if query.op_code() != OpCode::Query {
            resp.set_response_code(ResponseCode::NotImp);
            return Some(resp);
        }
        let name = q.name().to_ascii();
        if q.query_type() == RecordType::PTR {
            let ip = parse_reverse(&name)?;
            let target = self.table.reverse(&self.container, ip)?;
            let target = Name::from_ascii(format!("{target}.")).ok()?;
            resp.add_answer(Record::from_rdata(q.name().clone(), TTL, RData::PTR(PTR(target))));
            return Some(resp);
        }
        let ips = self.table.lookup(&self.container, &name)?;
        match q.query_type() {
            RecordType::A | RecordType::ANY => {
                for ip in ips {
                    resp.add_answer(Record::from_rdata(q.name().clone(), TTL, RData::A(A(ip))));
                }
            }
            // Known name, no record of that type (IPv6 and others): an empty NOERROR answer,
            // so clients asking for A and AAAA at once still get the address.
            _ => {}
        }
        Some(resp)
    }

    /// The reply to one DNS message (`None`: not a query we can parse, dropped).
    pub async fn reply(&self, packet: &[u8]) -> Option<Vec<u8>> {
        let query = Message::from_vec(packet).ok()?;
        if query.message_type() != MessageType::Query {
            return None;
        }
        if let Some(resp) = self.answer_locally(&query) {
            return resp.to_vec().ok();
        }
        for up in &self.upstreams {
            match tokio::time::timeout(UPSTREAM_TIMEOUT, forward(*up, packet)).await {
                Ok(Ok(r)) => return Some(r),
                Ok(Err(e)) => tracing::debug!(upstream = %up, error = %e, "dns forward"),
                Err(_) => tracing::debug!(upstream = %up, "dns forward timed out"),
            }
        }
        let mut resp = Message::new();
        resp.set_id(query.id())
            .set_message_type(MessageType::Response)
            .set_op_code(query.op_code())
            .set_recursion_desired(query.recursion_desired())
            .set_recursion_available(true)
            .set_response_code(ResponseCode::ServFail);
        resp.add_queries(query.queries().iter().cloned());
        resp.to_vec().ok()
    }
}

async fn forward(up: SocketAddr, packet: &[u8]) -> std::io::Result<Vec<u8>> {
    let bind: SocketAddr = if up.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().map_err(std::io::Error::other)?;
    let s = tokio::net::UdpSocket::bind(bind).await?;
    s.connect(up).await?;
    s.send(packet).await?;
    let mut buf = vec![0u8; 65535];
    let n = s.recv(&mut buf).await?;
    buf.truncate(n);
    Ok(buf)
}

/// Serves `udp` and `tcp` (bound in the container's namespace) until the returned future is
/// dropped or its task aborted.
pub async fn serve(udp: std::net::UdpSocket, tcp: std::net::TcpListener, resolver: Resolver) -> std::io::Result<()> {
    let udp = Arc::new(tokio::net::UdpSocket::from_std(udp)?);
    let tcp = tokio::net::TcpListener::from_std(tcp)?;
    let resolver = Arc::new(resolver);
    let r = resolver.clone();
    let tcp_loop = async move {
        loop {
            let Ok((mut stream, _)) = tcp.accept().await else {
                // Out of descriptors, most likely: do not spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let r = r.clone();
            tokio::spawn(async move {
                // RFC 1035 4.2.2: each message is preceded by its two-byte length.
                loop {
                    let Ok(len) = stream.read_u16().await else { return };
                    let mut buf = vec![0u8; usize::from(len)];
                    if stream.read_exact(&mut buf).await.is_err() {
                        return;
                    }
                    let Some(out) = r.reply(&buf).await else { return };
                    let Ok(n) = u16::try_from(out.len()) else { return };
                    if stream.write_u16(n).await.is_err() || stream.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    };
    let udp_loop = async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let (n, from) = match udp.recv_from(&mut buf).await {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!(error = %e, "dns receive");
                    continue;
                }
            };
            let packet = buf[..n].to_vec();
            let (r, sock) = (resolver.clone(), udp.clone());
            tokio::spawn(async move {
                if let Some(out) = r.reply(&packet).await {
                    let _ = sock.send_to(&out, from).await;
                }
            });
        }
    };
    tokio::join!(tcp_loop, udp_loop);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;

    fn table() -> Arc<NameTable> {
        let t = NameTable::default();
        let ip = |d| Ipv4Addr::new(10, 0, 0, d);
        t.set_container("a", vec![DnsEntry::new("a", "n1", ip(2), ["web".into(), "aaaa".into(), "WWW.".into()])]);
        t.set_container("b", vec![DnsEntry::new("b", "n1", ip(3), ["db".into()])]);
        t.set_container("c", vec![DnsEntry::new("c", "n2", ip(4), ["other".into(), "web".into()])]);
        Arc::new(t)
    }

    fn query(name: &str, t: RecordType) -> Message {
        let mut m = Message::new();
        m.set_id(7).set_recursion_desired(true);
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
        m
    }

    #[test]
    fn scoped_lookup() {
        let t = table();
        assert_eq!(t.lookup("b", "web."), Some(vec![Ipv4Addr::new(10, 0, 0, 2)]));
        assert_eq!(t.lookup("b", "www"), Some(vec![Ipv4Addr::new(10, 0, 0, 2)]));
        assert_eq!(t.lookup("b", "other"), None, "not across networks");
        assert_eq!(t.lookup("c", "web"), Some(vec![Ipv4Addr::new(10, 0, 0, 4)]));
        assert_eq!(t.reverse("b", Ipv4Addr::new(10, 0, 0, 2)).as_deref(), Some("web"));
        t.remove_container("a");
        assert_eq!(t.lookup("b", "web"), None);
        assert!(!t.has("a") && t.has("b"));
    }

    #[test]
    fn answers_known_names_and_forwards_the_rest() {
        let r = Resolver { container: "b".into(), table: table(), upstreams: vec![] };
        let resp = r.answer_locally(&query("web.", RecordType::A)).unwrap();
        assert_eq!(resp.id(), 7);
        assert_eq!(resp.message_type(), MessageType::Response);
        assert_eq!(resp.answers().len(), 1);
        assert_eq!(resp.answers()[0].data(), &RData::A(A(Ipv4Addr::new(10, 0, 0, 2))));
        let aaaa = r.answer_locally(&query("web.", RecordType::AAAA)).unwrap();
        assert!(aaaa.answers().is_empty() && aaaa.response_code() == ResponseCode::NoError);
        let ptr = r.answer_locally(&query("2.0.0.10.in-addr.arpa.", RecordType::PTR)).unwrap();
        assert_eq!(ptr.answers()[0].data(), &RData::PTR(PTR(Name::from_ascii("web.").unwrap())));
        assert!(r.answer_locally(&query("example.org.", RecordType::A)).is_none());
        assert!(r.answer_locally(&query("other.", RecordType::A)).is_none());
    }

    #[tokio::test]
    async fn forwards_and_fails_over_udp() {
        // A fake upstream on loopback answering every query with 192.0.2.1.
        let up = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = up.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (n, from) = up.recv_from(&mut buf).await.unwrap();
            let q = Message::from_vec(&buf[..n]).unwrap();
            let mut m = Message::new();
            m.set_id(q.id()).set_message_type(MessageType::Response);
            m.add_queries(q.queries().iter().cloned());
            let name = q.queries()[0].name().clone();
            m.add_answer(Record::from_rdata(name, 5, RData::A(A(Ipv4Addr::new(192, 0, 2, 1)))));
            up.send_to(&m.to_vec().unwrap(), from).await.unwrap();
        });
        let r = Resolver { container: "b".into(), table: table(), upstreams: vec![addr] };
        let out = r.reply(&query("example.org.", RecordType::A).to_vec().unwrap()).await.unwrap();
        let m = Message::from_vec(&out).unwrap();
        assert_eq!(m.answers()[0].data(), &RData::A(A(Ipv4Addr::new(192, 0, 2, 1))));
        let none = Resolver { container: "b".into(), table: table(), upstreams: vec![] };
        let out = none.reply(&query("example.org.", RecordType::A).to_vec().unwrap()).await.unwrap();
        assert_eq!(Message::from_vec(&out).unwrap().response_code(), ResponseCode::ServFail);
        assert_eq!(upstreams("# x\nnameserver 1.2.3.4\nnameserver ::1\nsearch a\n").len(), 2);
    }
}
