//! What the dashboards show: each visualization's query and aggregations, in the order of its
//! dashboard. docs/dashboards.md describes every panel in words; keep the two together.

use super::SavedObject;
use super::visual::{Agg, Chart, Query, Spec, dashboard, search, visualization};

/// A REPORT line (or `platform.report` record): one per invocation.
const REPORT: Query = Query::Is("aws.lambda.event", &["report"]);

/// How many functions a chart splits its series into (the busiest, or slowest, first).
const FUNCTIONS: usize = 10;

const PERCENTS: &[f64] = &[50.0, 95.0, 99.0];

/// The "Errors" saved search, the Lambda visualizations and the "Lambda" dashboard, on the index
/// pattern `pattern` of the log events' prefix `prefix` (in every id, so configurations with
/// different prefixes keep their own objects in one Dashboards).
pub(super) fn lambda(pattern: &str, prefix: &str) -> Vec<SavedObject> {
    let id = |name: &str| format!("sluice-{prefix}-{name}");
    let mut objects: Vec<SavedObject> = lambda_panels(&id)
        .into_iter()
        .map(|spec| visualization(spec, pattern))
        .collect();
    objects.push(search(
        id("errors"),
        (
            "Errors",
            "Log lines at level ERROR or FATAL and Lambda timeouts, newest first.",
        ),
        pattern,
        errors(),
        &[
            "aws.cloudwatch.log_group",
            "log.level",
            "faas.execution",
            "message",
        ],
    ));
    let board = dashboard(
        id("lambda"),
        (
            "Lambda",
            "Invocations, errors, timeouts, duration, memory and cold starts of every Lambda \
             function, from the log lines Sluice forwards.",
        ),
        &objects.iter().collect::<Vec<_>>(),
    );
    objects.push(board);
    objects
}

/// The Lambda dashboard's panels, in its order; `id` names each.
fn lambda_panels(id: &dyn Fn(&str) -> String) -> Vec<Spec> {
    let per_function = |agg: Agg, label: &'static str| {
        vec![
            (agg, label),
            (Agg::OverTime, ""),
            (Agg::Top("aws.cloudwatch.log_group", FUNCTIONS), "Log group"),
        ]
    };
    let cold_start = Query::And(vec![REPORT, Query::Exists("aws.lambda.init_duration_ms")]);
    let specs: [Spec; 8] = [
        Spec {
            id: id("lambda-invocations"),
            title: "Lambda invocations",
            description: "REPORT lines per function: one per invocation.",
            chart: Chart::Bars("Invocations"),
            query: REPORT,
            aggs: per_function(Agg::Count, "Invocations"),
        },
        Spec {
            id: id("lambda-errors"),
            title: "Lambda errors",
            description: "Log lines at level ERROR or FATAL per function, timeouts included.",
            chart: Chart::Bars("Error lines"),
            query: errors(),
            aggs: per_function(Agg::Count, "Error lines"),
        },
        Spec {
            id: id("lambda-timeouts"),
            title: "Lambda timeouts",
            description: "\"Task timed out\" lines per function.",
            chart: Chart::Bars("Timeouts"),
            query: Query::Is("aws.lambda.event", &["timeout"]),
            aggs: per_function(Agg::Count, "Timeouts"),
        },
        Spec {
            id: id("lambda-duration"),
            title: "Lambda duration",
            description: "Average Duration of the REPORT lines per function, in milliseconds.",
            chart: Chart::Line("Duration (ms)"),
            query: REPORT,
            aggs: per_function(Agg::Avg("aws.lambda.duration_ms"), "Average duration"),
        },
        Spec {
            id: id("lambda-memory"),
            title: "Lambda max memory used",
            description: "Highest Max Memory Used of the REPORT lines per function, in MB.",
            chart: Chart::Line("Memory (MB)"),
            query: REPORT,
            aggs: per_function(Agg::Max("aws.lambda.max_memory_used_mb"), "Max memory used"),
        },
        Spec {
            id: id("lambda-cold-starts"),
            title: "Lambda cold starts",
            description: "REPORT lines with an Init Duration (a new execution environment) per function.",
            chart: Chart::Bars("Cold starts"),
            query: cold_start.clone(),
            aggs: per_function(Agg::Count, "Cold starts"),
        },
        Spec {
            id: id("lambda-init-duration"),
            title: "Lambda init duration",
            description: "Average Init Duration of cold starts per function, in milliseconds.",
            chart: Chart::Line("Init duration (ms)"),
            query: cold_start,
            aggs: per_function(Agg::Avg("aws.lambda.init_duration_ms"), "Average init duration"),
        },
        Spec {
            id: id("lambda-functions"),
            title: "Lambda functions",
            description: "One row per function: invocations, duration, memory and init duration \
                          from its REPORT lines.",
            chart: Chart::Table,
            query: REPORT,
            aggs: vec![
                (Agg::Count, "Invocations"),
                (Agg::Avg("aws.lambda.duration_ms"), "Average duration (ms)"),
                (
                    Agg::Percentiles("aws.lambda.duration_ms", &[99.0]),
                    "Duration (ms)",
                ),
                (Agg::Max("aws.lambda.max_memory_used_mb"), "Max memory used (MB)"),
                (Agg::Max("aws.lambda.memory_size_mb"), "Memory size (MB)"),
                (
                    Agg::Avg("aws.lambda.init_duration_ms"),
                    "Average init duration (ms)",
                ),
                (Agg::Top("aws.cloudwatch.log_group", 50), "Log group"),
            ],
        },
    ];
    specs.into()
}

/// Log lines at level ERROR or FATAL (a runtime's error lines, JSON logs' `level`, and the
/// `Task timed out` lines, which Sluice marks ERROR), and timeouts however their level was read.
fn errors() -> Query {
    Query::Or(vec![
        Query::Is("log.level", &["ERROR", "FATAL"]),
        Query::Is("aws.lambda.event", &["timeout"]),
    ])
}

/// The "Access logs" visualizations and dashboard on the index pattern `pattern` that spans the
/// HTTP access logs' prefixes; they read the ECS fields every access log shares
/// (`http.response.status_code`, `source.ip`, `url.original`, `http.response.bytes`), each
/// format's own timings (`aws.<format>.*`), and what enrichment adds: the client's place and
/// network (`source.geo.*`, `source.as.*`, with GeoIP databases only) and its browser
/// (`user_agent.*`).
pub(super) fn access_logs(pattern: &str) -> Vec<SavedObject> {
    let id = |name: &str| format!("sluice-access-{name}");
    let mut objects: Vec<SavedObject> = access_log_panels(&id)
        .into_iter()
        .map(|spec| visualization(spec, pattern))
        .collect();
    let board = dashboard(
        id("logs"),
        (
            "Access logs",
            "HTTP requests of ALB, Classic ELB, CloudFront and S3 server access logs: status \
             codes, latency, where requests come from (with GeoIP databases), top clients, URLs \
             and browsers.",
        ),
        &objects.iter().collect::<Vec<_>>(),
    );
    objects.push(board);
    objects
}

/// The Access logs dashboard's panels, in its order; `id` names each.
fn access_log_panels(id: &dyn Fn(&str) -> String) -> Vec<Spec> {
    let specs: [Spec; 10] = [
        Spec {
            id: id("status-codes"),
            title: "Access logs: status codes",
            description: "Requests over time, one series per HTTP status code.",
            chart: Chart::Bars("Requests"),
            query: Query::All,
            aggs: vec![
                (Agg::Count, "Requests"),
                (Agg::OverTime, ""),
                (Agg::Top("http.response.status_code", 10), "Status code"),
            ],
        },
        Spec {
            id: id("latency"),
            title: "Access logs: latency percentiles",
            description: "50th, 95th and 99th percentiles of the ALB target processing time, the \
                          Classic ELB backend processing time and CloudFront's time taken, in \
                          seconds.",
            chart: Chart::Line("Seconds"),
            query: Query::All,
            aggs: vec![
                (
                    Agg::Percentiles("aws.alb.target_processing_time", PERCENTS),
                    "ALB target",
                ),
                (
                    Agg::Percentiles("aws.elb.backend_processing_time", PERCENTS),
                    "ELB backend",
                ),
                (
                    Agg::Percentiles("aws.cloudfront.time_taken", PERCENTS),
                    "CloudFront",
                ),
                (Agg::OverTime, ""),
            ],
        },
        Spec {
            id: id("s3-latency"),
            title: "Access logs: S3 request time percentiles",
            description: "50th, 95th and 99th percentiles of S3 server access logs' Total Time, \
                          in milliseconds.",
            chart: Chart::Line("Milliseconds"),
            query: Query::All,
            aggs: vec![
                (
                    Agg::Percentiles("aws.s3_access.total_time", PERCENTS),
                    "S3 total time",
                ),
                (Agg::OverTime, ""),
            ],
        },
        Spec {
            id: id("sources"),
            title: "Access logs: requests by source",
            description: "Requests over time, one series per log format.",
            chart: Chart::Bars("Requests"),
            query: Query::All,
            aggs: vec![
                (Agg::Count, "Requests"),
                (Agg::OverTime, ""),
                (Agg::Top("event.dataset", 10), "Dataset"),
            ],
        },
        Spec {
            id: id("origins"),
            title: "Access logs: request origins",
            description: "Where requests come from: the places GeoIP gives the client addresses \
                          (none without GEOIP_DATABASE).",
            chart: Chart::Map,
            query: Query::All,
            aggs: vec![
                (Agg::Count, "Requests"),
                (Agg::Grid("source.geo.location"), "Client location"),
            ],
        },
        Spec {
            id: id("top-countries"),
            title: "Access logs: top countries",
            description: "The 20 countries GeoIP places the most requests in, with the bytes sent \
                          there (none without GEOIP_DATABASE).",
            chart: Chart::Table,
            query: Query::All,
            aggs: vec![
                (Agg::Count, "Requests"),
                (Agg::Sum("http.response.bytes"), "Bytes sent"),
                (Agg::Top("source.geo.country_iso_code", 20), "Country"),
            ],
        },
        Spec {
            id: id("top-networks"),
            title: "Access logs: top networks",
            description: "The 20 autonomous systems (networks) the most requests come from, with \
                          the bytes sent to them (none without GEOIP_ASN_DATABASE).",
            chart: Chart::Table,
            query: Query::All,
            aggs: vec![
                (Agg::Count, "Requests"),
                (Agg::Sum("http.response.bytes"), "Bytes sent"),
                (Agg::Top("source.as.organization.name", 20), "Network"),
            ],
        },
        Spec {
            id: id("top-clients"),
            title: "Access logs: top clients",
            description: "The 20 client addresses with the most requests, with the bytes sent to them.",
            chart: Chart::Table,
            query: Query::All,
            aggs: vec![
                (Agg::Count, "Requests"),
                (Agg::Sum("http.response.bytes"), "Bytes sent"),
                (Agg::Top("source.ip", 20), "Client"),
            ],
        },
        Spec {
            id: id("top-urls"),
            title: "Access logs: top URLs",
            description: "The 20 URLs with the most requests, with the bytes sent for them.",
            chart: Chart::Table,
            query: Query::All,
            aggs: vec![
                (Agg::Count, "Requests"),
                (Agg::Sum("http.response.bytes"), "Bytes sent"),
                (Agg::Top("url.original", 20), "URL"),
            ],
        },
        Spec {
            id: id("top-browsers"),
            title: "Access logs: top browsers",
            description: "The 10 browsers with the most requests, and their 5 commonest operating \
                          systems, from the parsed user agent.",
            chart: Chart::Table,
            query: Query::All,
            aggs: vec![
                (Agg::Count, "Requests"),
                (Agg::Top("user_agent.name", 10), "Browser"),
                (Agg::Top("user_agent.os.name", 5), "Operating system"),
            ],
        },
    ];
    specs.into()
}

/// The "Security" visualizations and dashboard on the index pattern `pattern` that spans the
/// security sources' prefixes: findings (GuardDuty, Security Hub) by severity and type, DNS
/// queries (Route 53 Resolver), firewall alerts and blocked traffic (Network Firewall),
/// configuration changes (AWS Config), and where findings' and alerts' addresses are (with GeoIP
/// databases).
pub(super) fn security(pattern: &str) -> Vec<SavedObject> {
    let id = |name: &str| format!("sluice-security-{name}");
    let mut objects: Vec<SavedObject> = security_panels(&id)
        .into_iter()
        .map(|spec| visualization(spec, pattern))
        .collect();
    let board = dashboard(
        id("overview"),
        (
            "Security",
            "GuardDuty and Security Hub findings by severity and type, Route 53 Resolver \
             queries, Network Firewall alerts and blocked traffic, AWS Config changes, and where \
             the addresses they name are (with GeoIP databases).",
        ),
        &objects.iter().collect::<Vec<_>>(),
    );
    objects.push(board);
    objects
}

/// Findings (GuardDuty's, Security Hub's): `event.category: threat`.
const FINDINGS: Query = Query::Is("event.category", &["threat"]);

/// Severity bands as GuardDuty and Security Hub's normalized scale share them: low, medium,
/// high (GuardDuty's 1-8.9; Security Hub's 1-100 reaches into the last band from 70).
const SEVERITIES: &[(i64, i64)] = &[(0, 4), (4, 7), (7, 40), (40, 70), (70, 101)];

/// The Security dashboard's panels, in its order; `id` names each.
fn security_panels(id: &dyn Fn(&str) -> String) -> Vec<Spec> {
    let specs: [Spec; 9] = [
        Spec {
            id: id("findings"),
            title: "Security: findings by source",
            description: "GuardDuty and Security Hub findings over time, one series per source.",
            chart: Chart::Bars("Findings"),
            query: FINDINGS,
            aggs: vec![
                (Agg::Count, "Findings"),
                (Agg::OverTime, ""),
                (Agg::Top("event.dataset", 5), "Source"),
            ],
        },
        Spec {
            id: id("severity"),
            title: "Security: findings by severity",
            description: "Findings per band of event.severity: GuardDuty's low (below 4), medium \
                          (4 to 7) and high (7 and over); Security Hub's normalized severity \
                          from 40 (medium) and 70 (high, critical).",
            chart: Chart::Table,
            query: FINDINGS,
            aggs: vec![
                (Agg::Count, "Findings"),
                (Agg::Ranges("event.severity", SEVERITIES), "Severity"),
            ],
        },
        Spec {
            id: id("finding-types"),
            title: "Security: top finding types",
            description: "The 20 commonest finding types (GuardDuty's type, Security Hub's \
                          title), with the accounts they were found in.",
            chart: Chart::Table,
            query: FINDINGS,
            aggs: vec![
                (Agg::Count, "Findings"),
                (Agg::Top("rule.name", 20), "Finding type"),
                (Agg::Top("cloud.account.id", 5), "Account"),
            ],
        },
        Spec {
            id: id("origins"),
            title: "Security: where findings and alerts come from",
            description: "The places GeoIP gives the source addresses of findings and firewall \
                          alerts (none without GEOIP_DATABASE).",
            chart: Chart::Map,
            query: Query::Or(vec![FINDINGS, firewall_alerts()]),
            aggs: vec![
                (Agg::Count, "Events"),
                (Agg::Grid("source.geo.location"), "Source location"),
            ],
        },
        Spec {
            id: id("dns-names"),
            title: "Security: top DNS names queried",
            description: "The 20 names Route 53 Resolver answered most, with their response \
                          codes.",
            chart: Chart::Table,
            query: Query::Exists("dns.question.name"),
            aggs: vec![
                (Agg::Count, "Queries"),
                (Agg::Top("dns.question.name", 20), "Name"),
                (Agg::Top("dns.response_code", 3), "Response code"),
            ],
        },
        Spec {
            id: id("dns-failures"),
            title: "Security: DNS queries that failed",
            description: "Queries answered NXDOMAIN, SERVFAIL or REFUSED over time, one series \
                          per address that asked.",
            chart: Chart::Bars("Queries"),
            query: Query::Is("dns.response_code", &["NXDOMAIN", "SERVFAIL", "REFUSED"]),
            aggs: vec![
                (Agg::Count, "Queries"),
                (Agg::OverTime, ""),
                (Agg::Top("source.ip", 10), "Asked by"),
            ],
        },
        Spec {
            id: id("firewall-alerts"),
            title: "Security: firewall alerts by signature",
            description: "Network Firewall alerts over time, one series per signature.",
            chart: Chart::Bars("Alerts"),
            query: firewall_alerts(),
            aggs: vec![
                (Agg::Count, "Alerts"),
                (Agg::OverTime, ""),
                (Agg::Top("rule.name", 10), "Signature"),
            ],
        },
        Spec {
            id: id("blocked"),
            title: "Security: top blocked sources",
            description: "The 20 source addresses whose traffic a firewall denied most, and the \
                          ports they tried.",
            chart: Chart::Table,
            query: Query::Is("event.type", &["denied"]),
            aggs: vec![
                (Agg::Count, "Denied"),
                (Agg::Top("source.ip", 20), "Source"),
                (Agg::Top("destination.port", 5), "Destination port"),
            ],
        },
        Spec {
            id: id("config-changes"),
            title: "Security: configuration changes",
            description: "AWS Config configuration items over time, one series per resource \
                          type.",
            chart: Chart::Bars("Items"),
            query: Query::Exists("aws.config.resource_type"),
            aggs: vec![
                (Agg::Count, "Items"),
                (Agg::OverTime, ""),
                (Agg::Top("aws.config.resource_type", 10), "Resource type"),
            ],
        },
    ];
    specs.into()
}

/// Network Firewall's alert lines: `event.kind: alert` of its dataset.
fn firewall_alerts() -> Query {
    Query::And(vec![
        Query::Is("event.dataset", &["aws.network_firewall"]),
        Query::Is("event.kind", &["alert"]),
    ])
}
