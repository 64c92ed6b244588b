//! The settings of delivery to OpenSearch: the endpoint, how requests are authenticated, and
//! the `_bulk` requests' compression, concurrency and the indices' retention.

use reqwest::Url;
use sluice_edge::settings::{SettingError, boolean, choice, number, optional_choice, optional_number, text};

use super::RawConfig;
use super::keywords;
use crate::opensearch::SinkConfig;
use crate::opensearch::auth::{AuthMode, BasicSource, SigningService};

/// The delivery settings that do not need an endpoint (`BULK_GZIP`, `BULK_CONCURRENCY`,
/// `INDEX_RETENTION_DAYS`), checked also in a dry run: a setting that would refuse the real run
/// refuses this one.
pub(super) struct Bulk {
    pub gzip: bool,
    pub concurrency: usize,
    pub retention_days: Option<u32>,
}

pub(super) fn bulk(raw: &RawConfig) -> Result<Bulk, SettingError> {
    Ok(Bulk {
        gzip: boolean(&raw.bulk_gzip, "BULK_GZIP", true)?,
        concurrency: number(&raw.bulk_concurrency, "BULK_CONCURRENCY", 4, 1..=64)?,
        retention_days: optional_number(&raw.index_retention_days, "INDEX_RETENTION_DAYS", 1..=36_500)?,
    })
}

/// Where and how documents are sent: the endpoint `OPENSEARCH_ENDPOINT`, its auth, and [`bulk`].
pub(super) fn sink_config(endpoint: &str, raw: &RawConfig) -> Result<SinkConfig, SettingError> {
    let invalid =
        |reason: &dyn std::fmt::Display| SettingError::invalid("OPENSEARCH_ENDPOINT", endpoint, reason);
    if !endpoint.contains("://") {
        // What the console shows is the bare host name.
        return Err(invalid(&format_args!(
            "a URL needs its scheme: add https:// (https://{endpoint})"
        )));
    }
    let url = Url::parse(endpoint).map_err(|err| invalid(&err))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(&"expected an http:// or https:// URL with a host"));
    }
    let auth = auth(raw, url.host_str().unwrap_or_default())?;
    let Bulk {
        gzip,
        concurrency,
        retention_days,
    } = bulk(raw)?;
    Ok(SinkConfig {
        endpoint: url,
        auth,
        gzip,
        concurrency,
        retention_days,
    })
}

/// `OPENSEARCH_AUTH` and what each mode needs, for an endpoint on `host`.
fn auth(raw: &RawConfig, host: &str) -> Result<AuthMode, SettingError> {
    Ok(
        match choice::<keywords::Auth>(&raw.opensearch_auth, "OPENSEARCH_AUTH")? {
            keywords::Auth::Sigv4 => {
                let service = match optional_choice::<keywords::Service>(
                    &raw.opensearch_service,
                    "OPENSEARCH_SERVICE",
                )? {
                    Some(service) => service.into(),
                    None if host.ends_with(".aoss.amazonaws.com") => SigningService::Aoss,
                    None => SigningService::Es,
                };
                let region = text(&raw.opensearch_region)
                    .or_else(|| text(&raw.aws_region))
                    .ok_or(SettingError::Missing {
                        setting: "OPENSEARCH_REGION",
                        why: " for sigv4 (or AWS_REGION)",
                    })?;
                AuthMode::SigV4 {
                    service,
                    region: region.to_string(),
                }
            }
            keywords::Auth::Basic => match (
                text(&raw.opensearch_secret_id),
                text(&raw.opensearch_ssm_parameter),
            ) {
                (Some(secret), None) => AuthMode::Basic(BasicSource::SecretsManager(secret.to_string())),
                (None, Some(parameter)) => AuthMode::Basic(BasicSource::Ssm(parameter.to_string())),
                (Some(_), Some(parameter)) => {
                    return Err(SettingError::invalid(
                        "OPENSEARCH_SSM_PARAMETER",
                        parameter,
                        "set either OPENSEARCH_SECRET_ID or OPENSEARCH_SSM_PARAMETER, not both",
                    ));
                }
                (None, None) => {
                    return Err(SettingError::Missing {
                        setting: "OPENSEARCH_SECRET_ID",
                        why: " (or OPENSEARCH_SSM_PARAMETER) when OPENSEARCH_AUTH=basic",
                    });
                }
            },
            keywords::Auth::None => AuthMode::None,
        },
    )
}
