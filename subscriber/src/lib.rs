//! Sluice's subscriber: decides which CloudWatch Logs log groups get Sluice's subscription filter
//! and retention policy, and applies that plan.
//!
//! Pure core: [`config`], [`rules`], [`plan`]. Edges: [`aws`] (CloudWatch Logs calls, rate limited),
//! [`apply`], [`sweep`] (paged plan + apply with a deadline), [`handler`] (Lambda events).

pub mod config;
pub mod error;
pub mod plan;
pub mod rules;

pub use error::SubscriberError;
