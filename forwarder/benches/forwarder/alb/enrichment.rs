//! Enrichment (issue 23): the dry run's path with a City and an ASN database of GeoLite2's size
//! and user agents parsed, against the same with [`Enrichment::none`], in alternating rounds;
//! and `replay --dry-run s3://…` as a child with and without the databases, for its peak RSS.
//! The ECS shape of the documents is in both: it cannot be switched off.

use std::sync::Arc;
use std::time::{Duration, Instant};

use memchr::memmem;
use sluice_forwarder::document::{DocumentBuilder, DocumentOptions};
use sluice_forwarder::enrich::{DatabaseLocation, EnrichSettings, Enrichment};
use sluice_forwarder::opensearch::bulk;
use sluice_forwarder::source::s3::Chunk;

use super::AlbLog;
use super::databases::databases;
use super::memory::enrichment_memory;
use super::passes::{documents_pass, read_object_chunks};

/// Rounds of each variant; more than the other sections' five, the two being close. Each round
/// also runs the default (user agents, no database) after the two.
const ROUNDS: usize = 9;
const TARGET: f64 = 0.8;

/// The enrichment section: builds (or finds) the databases, then measures.
pub(super) fn enrichment(log: &AlbLog) {
    println!("enrichment: GeoIP (City), ASN and user agents on, against all three off");
    let files = databases();
    let settings = EnrichSettings {
        geoip: Some(DatabaseLocation::Path(files.city.clone())),
        asn: Some(DatabaseLocation::Path(files.asn.clone())),
    };
    let on = DocumentOptions {
        enrichment: Arc::new(Enrichment::open(&settings).expect("the benchmark's databases open")),
        ..DocumentOptions::default()
    };
    let off = DocumentOptions {
        enrichment: Arc::new(Enrichment::none()),
        ..DocumentOptions::default()
    };
    // The default without a database: user agents only.
    let agents = DocumentOptions::default();
    hit_mix(log, &on);
    let (mut best_on, mut best_off, mut best_agents) = (Duration::MAX, Duration::MAX, Duration::MAX);
    let mut ratios = Vec::with_capacity(ROUNDS);
    let mut bytes = (0, 0);
    for round in 0..ROUNDS {
        let time = |options: &DocumentOptions| {
            let start = Instant::now();
            let pass = std::hint::black_box(documents_pass(&log.gzip, options.clone(), true));
            assert_eq!(pass.docs, log.lines, "a document per line");
            (start.elapsed(), pass.bytes)
        };
        let ((on_time, on_bytes), (off_time, off_bytes)) = if round % 2 == 0 {
            let on = time(&on);
            (on, time(&off))
        } else {
            let off = time(&off);
            (time(&on), off)
        };
        (best_on, best_off) = (best_on.min(on_time), best_off.min(off_time));
        best_agents = best_agents.min(time(&agents).0);
        ratios.push(off_time.as_secs_f64() / on_time.as_secs_f64());
        bytes = (on_bytes, off_bytes);
    }
    report(log, (best_on, best_off), &mut ratios, bytes);
    println!(
        "  user agents only (the default, no database): {:.0} ms, {:.0} docs/s, {:.2} of off",
        best_agents.as_secs_f64() * 1e3,
        log.lines as f64 / best_agents.as_secs_f64(),
        best_off.as_secs_f64() / best_agents.as_secs_f64()
    );
    enrichment_memory(log, &files);
}

/// Prints the best of each variant, their ratio, and the rounds' ratios.
fn report(
    log: &AlbLog,
    (on, off): (Duration, Duration),
    ratios: &mut [f64],
    (on_bytes, off_bytes): (usize, usize),
) {
    let row = |label: &str, time: Duration, bytes: usize| {
        println!(
            "  {label:<48} {:>7.0} ms {:>9.0} docs/s; NDJSON {:.1} MB",
            time.as_secs_f64() * 1e3,
            log.lines as f64 / time.as_secs_f64(),
            bytes as f64 / 1e6
        );
    };
    row("dry run in-process, enrichment off (none)", off, off_bytes);
    row("dry run in-process, GeoIP + ASN + user agents", on, on_bytes);
    let ratio = off.as_secs_f64() / on.as_secs_f64();
    ratios.sort_by(f64::total_cmp);
    println!(
        "  ratio on/off (documents/s, best of {ROUNDS} rounds taken in turn): {ratio:.2} (target >= {TARGET}: {}); \
         the rounds' ratios: median {:.2}, {:.2} to {:.2}",
        if ratio >= TARGET { "met" } else { "not met" },
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1],
    );
}

/// How many documents got `geo`, `as` and a parsed user agent (from the NDJSON, once).
fn hit_mix(log: &AlbLog, options: &DocumentOptions) {
    let builder = DocumentBuilder::new(options.clone(), "us-east-1".to_owned());
    let mut out = Vec::new();
    let (mut docs, mut geo, mut asn, mut agents, mut parsed) = (0, 0, 0, 0, 0);
    read_object_chunks(&log.gzip, |chunk| {
        let Chunk::Records(records) = chunk else {
            panic!("an ALB log is lines");
        };
        let built = builder.record_documents(&Arc::new(records));
        out.clear();
        bulk::write_ndjson(&built.docs, &mut out).expect("writes to a Vec");
        docs += built.docs.len();
        geo += memmem::find_iter(&out, b"\"geo\":{").count();
        asn += memmem::find_iter(&out, b"\"as\":{").count();
        agents += memmem::find_iter(&out, b"\"user_agent\":{\"original\":").count();
        parsed += memmem::find_iter(&out, b"\"os\":{\"name\":").count();
    });
    let share = |count: usize| 100.0 * count as f64 / docs as f64;
    println!(
        "  of {docs} documents: {:.1}% with geo, {:.1}% with as, {:.1}% with a user agent, {:.1}% with its OS parsed",
        share(geo),
        share(asn),
        share(agents),
        share(parsed),
    );
}
