//! The proxy under test: in-process on its own runtime, or as the binary a user runs.

use std::process::{Child, Command, Stdio};

/// A running proxy: in-process on its own runtime thread (`start`), or as the binary a
/// user runs (`process`: signals, memory). Stopped on drop.
pub struct Proxy {
    pub port: u16,
    pub run: Run,
}

pub enum Run {
    InProcess(vscp_proxy::Shutdown, Option<std::thread::JoinHandle<()>>),
    Process(Child),
}

impl Proxy {
    /// In-process on port 0, with its own two-thread runtime (the test's runtime stays apart).
    pub fn start(args: &[&str]) -> Proxy {
        use clap::Parser;
        let mut all = vec!["vscp-proxy", "--listen", "127.0.0.1:0"];
        if !args.contains(&"--static") {
            all.extend(["--static", "/nonexistent"]);
        }
        all.extend(args);
        let args = vscp_proxy::Args::try_parse_from(all).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let shutdown = vscp_proxy::Shutdown::new();
                let server = vscp_proxy::Server::bind(&args, &shutdown).await.unwrap();
                tx.send((server.local_addr().unwrap().port(), shutdown.clone()))
                    .unwrap();
                server.run().await.unwrap();
            });
        });
        let (port, shutdown) = rx.recv().unwrap();
        Proxy {
            port,
            run: Run::InProcess(shutdown, Some(thread)),
        }
    }

    /// The binary, as a user starts it.
    pub fn process(args: &[&str]) -> Proxy {
        Proxy::process_with(args, Stdio::null(), "")
    }

    /// The binary with its log (stderr) going to `log`, under the shell `prelude`
    /// (e.g. `ulimit -n 300;`).
    pub fn process_with(args: &[&str], log: impl Into<Stdio>, prelude: &str) -> Proxy {
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(format!("{prelude} exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_vscp-proxy"))
            .args(["--listen", "127.0.0.1:0"])
            .args(if args.contains(&"--static") {
                &[][..]
            } else {
                &["--static", "/nonexistent"][..]
            })
            .args(args)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        Proxy {
            port: super::announced_port(&mut child),
            run: Run::Process(child),
        }
    }

    pub fn url(&self, query: &str) -> String {
        format!("ws://127.0.0.1:{}/ws?{query}", self.port)
    }

    pub fn pid(&self) -> u32 {
        match &self.run {
            Run::Process(child) => child.id(),
            Run::InProcess(..) => panic!("a process-level test needs Proxy::process"),
        }
    }

    pub fn rss_kib(&self) -> u64 {
        super::rss_kib(self.pid())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        match &mut self.run {
            Run::InProcess(shutdown, thread) => {
                shutdown.trigger();
                if let Some(t) = thread.take() {
                    let _ = t.join();
                }
            }
            Run::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}
