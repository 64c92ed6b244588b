//! Sluice's subscriber: decides which CloudWatch Logs log groups get Sluice's subscription filter
//! and retention policy, and applies that plan.
