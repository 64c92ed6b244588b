//! The Elastic Common Schema (ECS) fields every Sluice document shares: `ecs.version`,
//! `cloud.*` and the head of `event`. Names and types from ECS's `generated/ecs/ecs_flat.yml`
//! (<https://github.com/elastic/ecs>, release [`ECS_VERSION`]).

use std::borrow::Cow;
use std::net::IpAddr;

use crate::enrich::Enrichment;
use crate::json::{in_date_range, push_str, push_text, push_timestamp, push_u64};
use crate::source::s3::format::{Dns, EventKind, Shared};

/// The ECS release the documents follow, written as `ecs.version`.
pub const ECS_VERSION: &str = "9.4.0";

/// `event.dataset` of a CloudWatch Logs event, as Elastic's AWS integration names it.
pub const DATASET_CLOUDWATCH: &str = "aws.cloudwatch_logs";

/// `,"ecs":{"version":"9.4.0"}`.
pub(super) fn push_version(out: &mut String) {
    out.push_str(",\"ecs\":{\"version\":\"");
    out.push_str(ECS_VERSION);
    out.push_str("\"}");
}

/// `,"cloud":{"provider":"aws","account":{"id":…},"region":…}`, the account and region where
/// known.
pub(super) fn push_cloud(out: &mut String, account: Option<&str>, region: Option<&str>) {
    push_cloud_instance(out, account, region, None, None);
}

/// [`push_cloud`], with `cloud.instance.id` where the record names an instance and
/// `cloud.availability_zone` where it names a zone.
pub(super) fn push_cloud_instance(
    out: &mut String,
    account: Option<&str>,
    region: Option<&str>,
    instance: Option<&str>,
    zone: Option<&str>,
) {
    out.push_str(",\"cloud\":{\"provider\":\"aws\"");
    if let Some(account) = account.filter(|account| !account.is_empty()) {
        out.push_str(",\"account\":{\"id\":");
        push_str(out, account);
        out.push('}');
    }
    if let Some(region) = region.filter(|region| !region.is_empty()) {
        out.push_str(",\"region\":");
        push_str(out, region);
    }
    if let Some(zone) = zone.filter(|zone| !zone.is_empty()) {
        out.push_str(",\"availability_zone\":");
        push_str(out, zone);
    }
    if let Some(instance) = instance.filter(|instance| !instance.is_empty()) {
        out.push_str(",\"instance\":{\"id\":");
        push_str(out, instance);
        out.push('}');
    }
    out.push('}');
}

/// `,"event":{"kind":"event","dataset":…,"id":…`, left open for the members only some
/// documents have (`action`, `outcome`, …): the caller closes it. `kind` is `event`, or
/// `alert` for a finding ([`EventKind::event_kind`]).
pub(super) fn push_event_head(out: &mut String, kind: &str, dataset: &str, id: &str) {
    out.push_str(",\"event\":{\"kind\":\"");
    out.push_str(kind);
    out.push_str("\",\"dataset\":");
    push_str(out, dataset);
    if !id.is_empty() {
        out.push_str(",\"id\":");
        push_str(out, id);
    }
}

/// The ECS objects of an access log line, each written once, after its `event` head
/// ([`push_event_head`], which this closes): `event`'s category, type, action, outcome, duration,
/// start and end, then `source`, `destination`, `network` or `http`, `url`, `user_agent`, `tls`,
/// `trace`, `rule`, `user`, `error` and `related`, from what the line gave. `plain` when the texts
/// are known to need no escaping.
pub(super) fn push_access(out: &mut String, shared: &Shared<'_>, plain: bool, enrichment: &Enrichment) {
    push_event_members(out, shared, plain);
    let connection = shared.kind == Some(EventKind::Connection) || shared.transport.is_some();
    let (sent, received) = (shared.request_bytes, shared.bytes);
    let connection_bytes = |bytes: Option<u64>| bytes.filter(|_| connection);
    let source = Endpoint {
        ip: shared.client_ip.as_deref(),
        port: shared.client_port,
        country: shared.country.as_deref(),
    };
    let flow = Traffic {
        bytes: connection_bytes(sent).or(shared.flow_bytes),
        packets: shared.packets,
    };
    push_endpoint(out, "source", source, flow, (plain, enrichment));
    let destination = Endpoint::new(shared.target_ip.as_deref(), shared.target_port);
    let traffic = Traffic {
        bytes: connection_bytes(received),
        packets: None,
    };
    push_endpoint(out, "destination", destination, traffic, (plain, enrichment));
    if connection || shared.kind == Some(EventKind::Dns) {
        push_network(out, shared);
    } else {
        push_http(out, shared, plain);
    }
    if let Some(dns) = &shared.dns {
        push_dns(out, dns, plain);
    }
    push_url(out, shared, plain);
    if let Some(agent) = &shared.user_agent {
        push_user_agent(out, agent, plain, enrichment);
    }
    push_tls(out, shared, plain);
    let trace = shared.trace_id.as_deref().map(trace_root);
    push_texts(out, "trace", &[("id", trace)], plain);
    let rule = [
        ("id", shared.rule_id.as_deref()),
        ("name", shared.rule_name.as_deref()),
        ("category", shared.rule_category.as_deref()),
    ];
    push_texts(out, "rule", &rule, plain);
    let user = [
        ("id", shared.user_id.as_deref()),
        ("name", shared.user_name.as_deref()),
    ];
    push_texts(out, "user", &user, plain);
    let error = [
        ("code", shared.error_code.as_deref()),
        ("message", shared.error_message.as_deref()),
    ];
    push_texts(out, "error", &error, plain);
    push_related(out, &[source.ip, destination.ip], plain);
}

/// `,"<object>":{"<key>":…,…}` of the texts given, nothing when none is.
fn push_texts(out: &mut String, object: &str, texts: &[(&str, Option<&str>)], plain: bool) {
    let mut open = false;
    for (key, text) in texts {
        let Some(text) = text else {
            continue;
        };
        out.push_str(",\"");
        if !open {
            out.push_str(object);
            out.push_str("\":{\"");
            open = true;
        }
        out.push_str(key);
        out.push_str("\":");
        push_text(out, text, plain);
    }
    if open {
        out.push('}');
    }
}

/// The members of `event` a record gives, and the brace that closes it.
fn push_event_members(out: &mut String, shared: &Shared<'_>, plain: bool) {
    if let Some(kind) = shared.kind {
        out.push_str(",\"category\":[\"");
        out.push_str(kind.category());
        out.push_str("\"],\"type\":[\"");
        out.push_str(kind.kind_type());
        match shared.allowed {
            Some(true) => out.push_str("\",\"allowed"),
            Some(false) => out.push_str("\",\"denied"),
            None => {}
        }
        out.push_str("\"]");
    }
    if let Some(action) = &shared.action {
        out.push_str(",\"action\":");
        push_text(out, action, plain);
    }
    if let Some(provider) = &shared.provider {
        out.push_str(",\"provider\":");
        push_text(out, provider, plain);
    }
    let web = shared.kind == Some(EventKind::WebAccess);
    let by_status = shared.http_status_code.filter(|_| web).map(|status| status < 400);
    match shared.succeeded.or(by_status) {
        Some(true) => out.push_str(",\"outcome\":\"success\""),
        Some(false) => out.push_str(",\"outcome\":\"failure\""),
        None => {}
    }
    if let Some(severity) = shared.severity {
        out.push_str(",\"severity\":");
        out.push_str(&severity.to_string());
    }
    if let Some(nanos) = shared.duration.nanos() {
        out.push_str(",\"duration\":");
        push_u64(out, nanos);
    }
    for (key, time) in [("start", shared.start_ms), ("end", shared.end_ms)] {
        if let Some(ms) = time.filter(|ms| in_date_range(*ms)) {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            push_timestamp(out, ms);
        }
    }
    out.push('}');
}

/// `,"network":{"transport":…,"iana_number":…,"bytes":…,"packets":…}`: a connection's or flow's.
fn push_network(out: &mut String, shared: &Shared<'_>) {
    let sum = shared
        .request_bytes
        .into_iter()
        .chain(shared.bytes)
        .reduce(u64::saturating_add);
    let bytes = shared.flow_bytes.or(sum);
    let named = shared.transport.as_deref().filter(|_| shared.protocol.is_none());
    if shared.protocol.is_none() && named.is_none() && bytes.is_none() && shared.packets.is_none() {
        return;
    }
    out.push_str(",\"network\":{");
    let mut members = Members::new(out);
    if let Some(name) = named {
        push_str(members.key("transport"), &name.to_ascii_lowercase());
    }
    if let Some(number) = shared.protocol {
        if let Some(name) = transport(number) {
            let out = members.key("transport");
            out.push('"');
            out.push_str(name);
            out.push('"');
        }
        let out = members.key("iana_number");
        out.push('"');
        push_u64(out, u64::from(number));
        out.push('"');
    }
    if let Some(bytes) = bytes {
        push_u64(members.key("bytes"), bytes);
    }
    if let Some(packets) = shared.packets {
        push_u64(members.key("packets"), packets);
    }
    out.push('}');
}

/// `,"dns":{"question":{"name":…,"type":…},"response_code":…,"answers":[{"data":…,"type":…,"class":…}]}`.
fn push_dns(out: &mut String, dns: &Dns<'_>, plain: bool) {
    out.push_str(",\"dns\":{\"type\":\"query\"");
    let question = [
        ("name", dns.question_name.as_deref()),
        ("type", dns.question_type.as_deref()),
    ];
    push_texts(out, "question", &question, plain);
    if let Some(code) = &dns.response_code {
        out.push_str(",\"response_code\":");
        push_text(out, code, plain);
    }
    if !dns.answers.is_empty() {
        out.push_str(",\"answers\":[");
        for (i, answer) in dns.answers.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            let mut members = Members::new(out);
            for (key, value) in [
                ("data", &answer.data),
                ("type", &answer.kind),
                ("class", &answer.class),
            ] {
                if let Some(value) = value {
                    push_text(members.key(key), value, plain);
                }
            }
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
}

/// `network.transport` of an IANA protocol number, lowercase as ECS writes it.
fn transport(number: u8) -> Option<&'static str> {
    Some(match number {
        1 => "icmp",
        2 => "igmp",
        6 => "tcp",
        17 => "udp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        132 => "sctp",
        _ => return None,
    })
}

/// What went from an endpoint: `bytes` and `packets`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Traffic {
    pub bytes: Option<u64>,
    pub packets: Option<u64>,
}

/// An address and port, as the line gave them, and the country the log itself gives.
#[derive(Debug, Clone, Copy)]
pub(super) struct Endpoint<'a> {
    pub ip: Option<&'a str>,
    pub port: Option<u16>,
    pub country: Option<&'a str>,
}

impl<'a> Endpoint<'a> {
    pub fn new(ip: Option<&'a str>, port: Option<u16>) -> Self {
        Endpoint {
            ip,
            port,
            country: None,
        }
    }
}

/// `,"<name>":{"ip":…,"port":…,"bytes":…,"packets":…,"geo":{"country_iso_code":…}}` (`source`,
/// `destination`, `client`): every address object of a document is written here, nothing when
/// the line gave no address. A public address gets its `geo.*` and `as.*` from the GeoIP
/// databases ([`Enrichment::push_ip`]); the log's own country (WAF's) stands where they give no
/// `geo` (one `geo` per object).
pub(super) fn push_endpoint(
    out: &mut String,
    name: &str,
    at: Endpoint<'_>,
    traffic: Traffic,
    (plain, enrichment): (bool, &Enrichment),
) {
    let Some(ip) = at.ip else {
        return;
    };
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":{\"ip\":");
    push_text(out, ip, plain);
    if let Some(port) = at.port {
        out.push_str(",\"port\":");
        push_u64(out, u64::from(port));
    }
    if let Some(bytes) = traffic.bytes {
        out.push_str(",\"bytes\":");
        push_u64(out, bytes);
    }
    if let Some(packets) = traffic.packets {
        out.push_str(",\"packets\":");
        push_u64(out, packets);
    }
    let enriched = out.len();
    if enrichment.has_databases()
        && let Ok(address) = ip.parse::<IpAddr>()
    {
        enrichment.push_ip(address, out);
    }
    if let Some(country) = at.country.filter(|_| !out[enriched..].starts_with(",\"geo\":")) {
        out.push_str(",\"geo\":{\"country_iso_code\":");
        push_text(out, country, plain);
        out.push('}');
    }
    out.push('}');
}

/// `,"user_agent":{"original":…}`, every user agent of a document, with the `name`, `version`,
/// `os.*` and `device.name` of one the parser knows ([`Enrichment::push_user_agent`]).
pub(super) fn push_user_agent(out: &mut String, original: &str, plain: bool, enrichment: &Enrichment) {
    out.push_str(",\"user_agent\":{\"original\":");
    push_text(out, original, plain);
    enrichment.push_user_agent(original, out);
    out.push('}');
}

/// `,"http":{"request":{"method":…,"bytes":…},"response":{"status_code":…,"bytes":…}}`.
fn push_http(out: &mut String, shared: &Shared<'_>, plain: bool) {
    let request = shared.http_method.is_some() || shared.request_bytes.is_some();
    let response = shared.http_status_code.is_some() || shared.bytes.is_some();
    if !request && !response {
        return;
    }
    out.push_str(",\"http\":{");
    if request {
        out.push_str("\"request\":{");
        let mut members = Members::new(out);
        if let Some(method) = &shared.http_method {
            push_text(members.key("method"), method, plain);
        }
        if let Some(bytes) = shared.request_bytes {
            push_u64(members.key("bytes"), bytes);
        }
        out.push('}');
    }
    if response {
        out.push_str(if request {
            ",\"response\":{"
        } else {
            "\"response\":{"
        });
        let mut members = Members::new(out);
        if let Some(status) = shared.http_status_code {
            push_u64(members.key("status_code"), u64::from(status));
        }
        if let Some(bytes) = shared.bytes {
            push_u64(members.key("bytes"), bytes);
        }
        out.push('}');
    }
    out.push('}');
}

/// `,"url":{"original":…,"domain":…,"path":…,"query":…}`: the parts read from the URL as
/// written (no decoding), the domain from the request's host when the URL has none.
fn push_url(out: &mut String, shared: &Shared<'_>, plain: bool) {
    let Some(original) = shared.url_original.as_deref() else {
        if let Some(domain) = &shared.url_domain {
            out.push_str(",\"url\":{\"domain\":");
            push_text(out, domain, plain);
            out.push('}');
        }
        return;
    };
    let parts = UrlParts::of(original);
    out.push_str(",\"url\":{\"original\":");
    push_text(out, original, plain);
    let domain = parts.domain.or(shared.url_domain.as_deref());
    for (key, value) in [("domain", domain), ("path", parts.path), ("query", parts.query)] {
        if let Some(value) = value.filter(|value| !value.is_empty()) {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            push_text(out, value, plain);
        }
    }
    out.push('}');
}

/// `,"tls":{"cipher":…,"version":"1.2","version_protocol":"tls","client":{"server_name":…}}`.
fn push_tls(out: &mut String, shared: &Shared<'_>, plain: bool) {
    let version = shared.tls_protocol.as_deref().and_then(tls_version);
    let server_name = shared.tls_server_name.as_deref();
    if shared.tls_cipher.is_none() && version.is_none() && server_name.is_none() {
        return;
    }
    out.push_str(",\"tls\":{");
    let mut members = Members::new(out);
    if let Some(cipher) = &shared.tls_cipher {
        push_text(members.key("cipher"), cipher, plain);
    }
    if let Some(name) = server_name {
        let out = members.key("client");
        out.push_str("{\"server_name\":");
        push_text(out, name, plain);
        out.push('}');
    }
    if let Some((protocol, version)) = version {
        let out = members.key("version");
        out.push('"');
        out.push_str(&version);
        out.push('"');
        let out = members.key("version_protocol");
        out.push('"');
        out.push_str(protocol);
        out.push('"');
    }
    out.push('}');
}

/// `,"related":{"ip":[…]}`: the addresses given, each once.
fn push_related(out: &mut String, ips: &[Option<&str>], plain: bool) {
    let mut first = true;
    for (i, ip) in ips.iter().enumerate() {
        let Some(ip) = ip else {
            continue;
        };
        if ips[..i].contains(&Some(*ip)) {
            continue;
        }
        out.push_str(if first { ",\"related\":{\"ip\":[" } else { "," });
        first = false;
        push_text(out, ip, plain);
    }
    if !first {
        out.push_str("]}");
    }
}

/// Members of a JSON object being written: a comma before each but the first.
struct Members<'o> {
    out: &'o mut String,
    first: bool,
}

impl<'o> Members<'o> {
    fn new(out: &'o mut String) -> Self {
        Members { out, first: true }
    }

    /// `"key":` (after a comma unless it is the first), the value left to the caller.
    fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
        self.out
    }
}

/// The parts of a URL as written: `http://www.example.com:80/a?b` has the domain
/// `www.example.com`, the path `/a` and the query `b`; a path alone (`/a?b`) has no domain.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct UrlParts<'a> {
    pub domain: Option<&'a str>,
    pub path: Option<&'a str>,
    pub query: Option<&'a str>,
}

impl<'a> UrlParts<'a> {
    pub fn of(url: &'a str) -> Self {
        let url = url.split_once('#').map_or(url, |(before, _)| before);
        let (domain, rest) = match url.split_once("://") {
            Some((_, after)) => {
                let end = after.find(['/', '?']).unwrap_or(after.len());
                (Some(host(&after[..end])), &after[end..])
            }
            None => (None, url),
        };
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        UrlParts {
            domain: domain.filter(|domain| !domain.is_empty()),
            path: Some(path).filter(|path| !path.is_empty()),
            query,
        }
    }
}

/// The host of an authority (`user@host:port`, `[2001:db8::1]:443`), without brackets.
fn host(authority: &str) -> &str {
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if let Some(bracketed) = host.strip_prefix('[') {
        return bracketed.split_once(']').map_or(bracketed, |(inside, _)| inside);
    }
    host.split_once(':').map_or(host, |(name, _)| name)
}

/// ECS's `tls.version_protocol` and `tls.version` of a protocol as the logs write it: ALB's and
/// CloudFront's `TLSv1.2`, S3's `TLSV1.2`, the NLB's `tlsv12`; `None` for one not read. Borrowed
/// from the text where it holds the version as ECS writes it.
pub(super) fn tls_version(protocol: &str) -> Option<(&'static str, Cow<'_, str>)> {
    let prefix = |name: &str| {
        (protocol.len() > name.len() && protocol.is_char_boundary(name.len()))
            .then(|| protocol.split_at(name.len()))
            .filter(|(head, _)| head.eq_ignore_ascii_case(name))
            .map(|(_, number)| number)
    };
    let (name, number) = match (prefix("tlsv"), prefix("sslv")) {
        (Some(number), _) => ("tls", number),
        (None, Some(number)) => ("ssl", number),
        (None, None) => return None,
    };
    if !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let version = match (number.contains('.'), number.len()) {
        (true, _) => Cow::Borrowed(number),
        (false, 1) if name == "tls" => Cow::Owned(format!("{number}.0")),
        (false, 1) => Cow::Borrowed(number),
        (false, _) => Cow::Owned(format!("{}.{}", &number[..1], &number[1..])),
    };
    Some((name, version))
}

/// The `Root` of an X-Ray trace header (`Root=1-58337262-36d228ad5d99923122bbe354`, or
/// `Self=…;Root=…;…`), else the value as written.
fn trace_root(header: &str) -> &str {
    header
        .split(';')
        .find_map(|part| part.strip_prefix("Root="))
        .unwrap_or(header)
}
