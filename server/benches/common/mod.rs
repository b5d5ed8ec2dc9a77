//! What the benchmarks share: a connection to PostgreSQL's admin database, timing a query
//! many times, and one line per measurement. Each benchmark uses part of it.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// How many times each query is timed (after 50 untimed runs).
pub const ROUNDS: usize = 2_000;

pub async fn admin_connection(server: &str) -> sqlx::PgConnection {
    let url = format!("{}/postgres", server.trim_end_matches('/'));
    <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.expect("PostgreSQL answers")
}

/// The sorted durations of `ROUNDS` runs of `query`, each of which must find something.
pub async fn time<F, Fut, T, E>(query: F) -> Vec<Duration>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, E>>,
    E: std::fmt::Debug,
{
    for _ in 0..50 {
        query().await.unwrap();
    }
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let rows = query().await.unwrap();
        samples.push(started.elapsed());
        assert!(!rows.is_empty());
    }
    samples.sort_unstable();
    samples
}

/// The value at quantile `q` of sorted samples.
pub fn at(samples: &[Duration], q: f64) -> Duration {
    samples[((samples.len() - 1) as f64 * q) as usize]
}

pub fn report(what: &str, samples: Vec<Duration>) {
    println!("{what:<56} median {:>8.1?}  p99 {:>8.1?}", at(&samples, 0.5), at(&samples, 0.99));
}
