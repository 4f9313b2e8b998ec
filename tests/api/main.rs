//! The service's behaviour over HTTP, against the real app on a random local port.

mod analytics;
mod browser;
mod errors;
mod feed;
mod filters;
mod health;
mod helpers;
mod keys;
mod matching;
mod merchandising;
mod metrics;
mod oracle;
mod pg;
mod products;
mod ranking;
mod rate_limits;
mod replicas;
mod search;
mod search_options;
mod settings;
mod shutdown;
mod upgrade;
mod writes;
