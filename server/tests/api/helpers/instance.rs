//! Another server on the test app's database: the real binary in a process of its own, for
//! what running several instances relies on, and for killing one.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use super::TestApp;

/// A server process on the test app's database; killed when dropped.
pub struct Instance {
    pub child: Child,
    pub port: u16,
    /// What it logged (its standard output), line by line.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestApp {
    pub fn spawn_instance(&self) -> Instance {
        self.spawn_instance_with(&[])
    }

    /// Another instance with some settings of its own (`REDIS_URL`, say).
    pub fn spawn_instance_with(&self, settings: &[(&str, &str)]) -> Instance {
        let child = Command::new(env!("CARGO_BIN_EXE_chat-server"))
            .arg("serve")
            .envs(settings.iter().copied())
            .env("DATABASE_URL", &self.database_url)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("LEPTOS_SITE_ROOT", concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site"))
            // One data folder for all instances, as in production: the files, the push key.
            .env("DATA_DIR", self._data.path())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            // The limits of the test's own server (see helpers): these tests post in bursts.
            .env("MESSAGES_PER_SECOND", "1000000")
            .env("MESSAGE_BURST", "1000000")
            .env("SIGNUPS_PER_ADDRESS", "1000000")
            .env("FRAMES_PER_SECOND", "1000000")
            .env("SOCKETS_PER_PERSON", "1000000")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        // Owned from here on, so that a failure below still kills it.
        let mut instance = Instance { child, port: 0, log: Arc::default() };
        // It says where it listens ("chat listening on http://127.0.0.1:PORT").
        let mut lines = BufReader::new(instance.child.stdout.take().unwrap()).lines();
        instance.port = loop {
            let line = lines.next().expect("the instance logs its address").unwrap();
            if let Some(address) = line.split("chat listening on http://127.0.0.1:").nth(1) {
                let port: String = address.chars().take_while(char::is_ascii_digit).collect();
                break port.parse().unwrap();
            }
        };
        // Keep reading its log, so that it never blocks on a full pipe.
        let log = instance.log.clone();
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(|line| log.lock().unwrap().push(line)));
        instance
    }
}

impl Instance {
    /// Its URL for a path (`ws://` for sockets).
    pub fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    /// Sends it a signal (`KILL`, `TERM`).
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill").args(["-s", name, &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success(), "kill -s {name} works");
    }
}
