//! Sluice's subscriber: decides which CloudWatch Logs log groups get Sluice's subscription filter
//! and retention policy, and applies that plan.
//!
//! Pure core: [`config`], [`rules`], [`plan`]. Edges: [`aws`] (CloudWatch Logs calls, rate limited),
//! [`sweep`] (plan + apply per page, with a deadline and a continuation), [`metrics`], [`handler`] (Lambda events), [`cli`] (the command line). [`hostile`]: what must hold for any
//! input, the bodies of the fuzz targets.

pub mod account;
pub mod aws;
pub mod cli;
pub mod config;
pub mod error;
pub mod handler;
pub mod hostile;
pub mod metrics;
pub mod plan;
pub mod rules;
pub mod sweep;

pub use error::SubscriberError;
