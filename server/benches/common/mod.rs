//! What the benchmarks share: a connection to PostgreSQL's admin database, timing a query
//! many times, and one line per measurement. Each benchmark uses part of it.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// How many times each query is timed (after 50 untimed runs).
pub const ROUNDS: usize = 2_000;

/// Where a benchmark's data lives: a SQLite file in a temporary folder, or with
/// `BENCH_POSTGRES_URL` a PostgreSQL database of this name, made new for the run.
pub struct BenchDatabase {
    pub url: String,
    /// The PostgreSQL server, when on PostgreSQL.
    pub postgres: Option<String>,
    name: &'static str,
    _folder: tempfile::TempDir,
}

impl BenchDatabase {
    pub async fn new(name: &'static str) -> Self {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let postgres = std::env::var("BENCH_POSTGRES_URL").ok().filter(|url| !url.is_empty());
        let url = match &postgres {
            Some(server) => {
                let mut admin = admin_connection(server).await;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut admin).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
                format!("{}/{name}", server.trim_end_matches('/'))
            }
            None => format!("sqlite://{}/bench.db", folder.path().display()),
        };
        println!("on {}", if postgres.is_some() { "PostgreSQL" } else { "SQLite" });
        Self { url, postgres, name, _folder: folder }
    }

    /// Drops the PostgreSQL database (the SQLite file goes with its folder), unless
    /// `BENCH_KEEP=1` asks to keep it to look at its plans.
    pub async fn finish(self) {
        let Some(server) = self.postgres.filter(|_| std::env::var("BENCH_KEEP").is_err()) else { return };
        let mut admin = admin_connection(&server).await;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut admin).await.unwrap();
    }
}

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
