//! The generated log: ALB access log lines as AWS documents them, from a seeded generator, so
//! every run has the same log.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::databases::{Network, client_networks};
use super::rng::Rng;
use super::{AlbLog, START_MS};

/// Generates the log a line at a time into two gzip encoders (flate2's default level): the whole
/// log, and its lines up to an eighth of `target` bytes.
pub(super) fn generate(target: usize) -> AlbLog {
    use flate2::{Compression, write::GzEncoder};
    let mut whole = GzEncoder::new(Vec::new(), Compression::default());
    let mut small = GzEncoder::new(Vec::new(), Compression::default());
    let mut lines = Lines::new(0x5eed_a1b0);
    let (mut bytes, mut count, mut small_lines) = (0, 0, 0);
    let mut line = String::with_capacity(1024);
    while bytes < target {
        line.clear();
        lines.next(&mut line);
        line.push('\n');
        whole.write_all(line.as_bytes()).expect("Vec");
        if bytes < target / 8 {
            small.write_all(line.as_bytes()).expect("Vec");
            small_lines += 1;
        }
        bytes += line.len();
        count += 1;
    }
    AlbLog {
        gzip: whole.finish().expect("Vec"),
        small_gzip: small.finish().expect("Vec"),
        bytes,
        lines: count,
        small_lines,
    }
}

/// User agents with their weights: a handful of browsers, crawlers, tools and health checks,
/// repeated, as real traffic is.
const USER_AGENTS: &[(u64, &str)] = &[
    (
        30,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ),
    (
        12,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    ),
    (
        15,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    ),
    (
        4,
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ),
    (
        10,
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
    ),
    (
        4,
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    ),
    (
        2,
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    ),
    (4, "curl/8.5.0"),
    (3, "python-requests/2.32.3"),
    (3, "Go-http-client/1.1"),
    (6, "ELB-HealthChecker/2.0"),
    (4, "okhttp/4.12.0"),
    (3, "-"),
];
const DOMAINS: &[&str] = &[
    "www.example.com",
    "api.example.com",
    "shop.example.net",
    "static.example.org",
];
const PATHS: &[&str] = &[
    "/",
    "/index.html",
    "/api/v1/orders",
    "/api/v1/orders/",
    "/api/v1/users/",
    "/search",
    "/products/",
    "/static/js/app.",
    "/images/products/",
    "/healthz",
    "/login",
    "/checkout",
    "/cart/items",
];
const QUERIES: &[&str] = &[
    "?page=",
    "?q=running+shoes&page=",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=nov",
    "?sort=price_asc&limit=",
    "?id=",
    "?lang=en-US&ref=",
];
const TARGET_GROUPS: &[&str] = &[
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/web-targets/73e2d6bc24d8a067",
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/api-targets/1f3a7c9e5b2d4f60",
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/static-targets/9b8c7d6e5f4a3b21",
];
const LAMBDA_GROUP: &str =
    "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/checkout-fn/0a1b2c3d4e5f6a7b";
const CERT: &str = "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012";

/// ALB access log lines as AWS documents them (30 fields, to `conn_trace_id`), times rising.
struct Lines {
    rng: Rng,
    time_us: i64,
    /// `ip:port` of the targets, a third in each target group.
    targets: Vec<String>,
    clients: Vec<String>,
}

impl Lines {
    fn new(seed: u64) -> Lines {
        let mut rng = Rng(seed);
        let targets = (0..24)
            .map(|i| {
                let port = [80, 8080, 8443, 9000][i % 4];
                format!("10.0.{}.{}:{port}", 1 + i % 3, 10 + rng.below(240))
            })
            .collect();
        let clients = clients(&mut rng);
        Lines {
            rng,
            time_us: START_MS * 1000,
            targets,
            clients,
        }
    }

    /// Appends one line to `out`.
    fn next(&mut self, out: &mut String) {
        use std::fmt::Write as _;
        let rng = &mut self.rng;
        self.time_us += rng.below(2400) as i64;
        let kind = rng.pick_weighted(&[(30, "http"), (60, "https"), (8, "h2"), (1, "ws"), (1, "wss")]);
        let tls = matches!(kind, "https" | "h2" | "wss");
        let lambda = rng.below(100) < 4;
        let group = if lambda {
            LAMBDA_GROUP
        } else {
            TARGET_GROUPS[rng.below(3) as usize]
        };
        let target = match lambda {
            true => "-".to_owned(),
            false => self.targets[rng.below(self.targets.len() as u64) as usize].clone(),
        };
        let answer = Answer::roll(rng, lambda, tls);
        let target = if answer.action == "redirect" || answer.elb == 503 {
            "-".to_owned()
        } else {
            target
        };
        let (request_s, target_s, response_s) = processing_times(rng, answer.dispatched);
        let created_us = self.time_us - 1000 * rng.below(1500) as i64;
        // Half the requests come from a twentieth of the clients.
        let pool = self.clients.len() as u64;
        let among = if rng.below(2) == 0 { pool / 20 } else { pool };
        let client = &self.clients[rng.below(among) as usize];
        let domain = rng.pick(DOMAINS);
        let method = rng.pick_weighted(&[(14, "GET"), (3, "POST"), (1, "PUT"), (1, "DELETE"), (1, "HEAD")]);
        let url = url(rng, domain, tls);
        let protocol = if kind == "h2" { "HTTP/2.0" } else { "HTTP/1.1" };
        let (cipher, tls_version) = cipher(rng, tls);
        let (sni, cert) = if tls { (domain, CERT) } else { ("-", "-") };
        let priority = if answer.action == "redirect" {
            1
        } else {
            rng.below(4) * rng.below(12)
        };
        let redirect = match answer.action {
            "redirect" => format!("https://{domain}:443/"),
            _ => "-".to_owned(),
        };
        let (classification, reason) = rng.pick_weighted(&[
            (3, ("Ambiguous", "UndefinedContentLengthSemantics")),
            (1, ("Acceptable", "NonCompliantHeader")),
            (196, ("-", "-")),
        ]);
        let status = |code: Option<u32>| code.map_or("-".to_owned(), |code| code.to_string());
        let (port_list, status_list) = match target.as_str() {
            "-" => ("-".to_owned(), "-".to_owned()),
            _ => (target.clone(), status(answer.target_status)),
        };
        let Answer {
            elb, action, error, ..
        } = answer;
        let _ = write!(
            out,
            "{kind} {time} app/my-alb/50dc6c495c0c9188 {client}:{port} {target} {request_s} {target_s} {response_s} \
             {elb} {target_status} {received} {sent} \"{method} {url} {protocol}\" \"{agent}\" {cipher} {tls_version} \
             {group} \"Root=1-{epoch:08x}-{trace}\" \"{sni}\" \"{cert}\" {priority} {created} \"{action}\" \"{redirect}\" \
             \"{error}\" \"{port_list}\" \"{status_list}\" \"{classification}\" \"{reason}\" TID_{conn}",
            time = iso_time(self.time_us),
            port = 1024 + rng.below(64_000),
            target_status = status(answer.target_status),
            received = 80 + rng.below(1500),
            sent = 150 + rng.below(40_000),
            agent = rng.pick_weighted(USER_AGENTS),
            epoch = self.time_us / 1_000_000,
            trace = rng.hex(24),
            created = iso_time(created_us),
            conn = rng.hex(32),
        );
    }
}

/// Distinct public clients, one in seven on IPv6.
const CLIENTS: usize = 30_000;

/// The log's clients, in random order: [`CLIENTS`] public addresses, each in a network of the
/// benchmark's City database (so drawn from the same networks as the databases hold), and one
/// in thirty more inside the VPC (private, never looked up).
fn clients(rng: &mut Rng) -> Vec<String> {
    let mut clients: Vec<String> = client_networks(CLIENTS, rng)
        .iter()
        .map(|network| address_in(network, rng).to_string())
        .collect();
    for _ in 0..CLIENTS / 30 {
        clients.push(format!(
            "10.{}.{}.{}",
            rng.below(256),
            rng.below(256),
            1 + rng.below(254)
        ));
    }
    for at in (1..clients.len()).rev() {
        clients.swap(at, rng.below(at as u64 + 1) as usize);
    }
    clients
}

/// An address of `network`, its host bits drawn by `rng`.
fn address_in(network: &Network, rng: &mut Rng) -> IpAddr {
    match network.address {
        IpAddr::V4(v4) => {
            let host = rng.below(1 << (32 - network.length)) as u32;
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) | host))
        }
        IpAddr::V6(v6) => {
            let host = ((u128::from(rng.next()) << 64) | u128::from(rng.next())) >> network.length;
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) | host))
        }
    }
}

/// How a request was answered.
struct Answer {
    elb: u32,
    target_status: Option<u32>,
    /// Whether the request reached a target.
    dispatched: bool,
    action: &'static str,
    error: &'static str,
}

impl Answer {
    fn roll(rng: &mut Rng, lambda: bool, tls: bool) -> Answer {
        let answer = |elb, target_status, dispatched, action, error| Answer {
            elb,
            target_status,
            dispatched,
            action,
            error,
        };
        let mut answer = match rng.below(1000) {
            0..820 => answer(200, Some(200), true, "forward", "-"),
            820..845 => answer(204, Some(204), true, "forward", "-"),
            845..875 => answer(304, Some(304), true, "forward", "-"),
            875..895 => answer(301, None, false, "redirect", "-"),
            895..955 => {
                let status = [404, 404, 404, 400, 401, 403][rng.below(6) as usize];
                answer(status, Some(status), true, "forward", "-")
            }
            955..970 => answer(460, None, false, "forward", "-"),
            970..982 => answer(500, Some(500), true, "forward", "-"),
            982..990 if lambda => answer(502, None, false, "forward", "LambdaInvalidResponse"),
            982..990 => answer(502, None, false, "forward", "-"),
            990..996 => answer(503, None, false, "forward", "-"),
            _ => answer(504, None, false, "forward", "-"),
        };
        answer.action = match (answer.action, rng.below(20)) {
            ("forward", 0..3) => "waf,forward",
            ("forward", 3) if tls => "authenticate,forward",
            (action, _) => action,
        };
        answer
    }
}

/// The request, target and response processing times, or `-1` for a request no target saw.
fn processing_times(rng: &mut Rng, dispatched: bool) -> (String, String, String) {
    match dispatched {
        true => (
            format!("{:.3}", rng.below(6) as f64 / 1000.0),
            format!("{:.3}", (rng.below(40) * rng.below(40) + 1) as f64 / 1000.0),
            format!("{:.3}", rng.below(2) as f64 / 1000.0),
        ),
        false => ("-1".to_owned(), "-1".to_owned(), "-1".to_owned()),
    }
}

/// A request URL on `domain`: a path, sometimes an id or a query, rarely a token to redact.
fn url(rng: &mut Rng, domain: &str, tls: bool) -> String {
    use std::fmt::Write as _;
    let (scheme, port) = if tls { ("https", 443) } else { ("http", 80) };
    let mut url = format!("{scheme}://{domain}:{port}{}", rng.pick(PATHS));
    if url.ends_with('/') && url.len() > domain.len() + 15 {
        let _ = write!(url, "{}", rng.below(1_000_000));
    } else if url.ends_with('.') {
        let _ = write!(url, "{}.js", rng.hex(8));
    }
    match rng.below(200) {
        0..80 => {
            let _ = write!(url, "{}{}", rng.pick(QUERIES), rng.below(50));
        }
        80 => {
            let _ = write!(url, "?session_token={}", rng.hex(32));
        }
        _ => {}
    }
    url
}

/// The TLS cipher and protocol, `-` for plain HTTP.
fn cipher(rng: &mut Rng, tls: bool) -> (&'static str, &'static str) {
    match (tls, rng.below(3)) {
        (false, _) => ("-", "-"),
        (true, 0) => (
            rng.pick(&["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"]),
            "TLSv1.2",
        ),
        (true, _) => (
            rng.pick(&["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]),
            "TLSv1.3",
        ),
    }
}

/// `2026-11-29T10:00:00.186641Z`, as ALB writes its times.
fn iso_time(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .expect("a time of 2026")
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}
