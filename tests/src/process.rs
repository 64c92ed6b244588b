//! Server processes: find the binary, pick a port, start, wait until ready, stop on drop.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a server may take to answer its first request.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// The command a newcomer runs to install both servers.
const INSTALL_HINT: &str = "tools/setup.sh (installs the pinned tools/requirements.txt into .venv)";

/// Why the harness could not give a test its server.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{server} is not installed: {path} does not exist. Install it with: {hint}", path = path.display(), hint = INSTALL_HINT)]
    NotInstalled { server: &'static str, path: PathBuf },
    #[error("{server} could not be started ({source}); its output is in {log}", log = log.display())]
    Spawn {
        server: &'static str,
        log: PathBuf,
        source: std::io::Error,
    },
    #[error("{server} exited during startup ({status}); its output is in {log}:\n{tail}", log = log.display())]
    Exited {
        server: &'static str,
        status: std::process::ExitStatus,
        log: PathBuf,
        tail: String,
    },
    #[error("{server} did not answer within {secs} s; its output is in {log}", secs = STARTUP_TIMEOUT.as_secs(), log = log.display())]
    NotReady { server: &'static str, log: PathBuf },
    #[error("{server}: {what}")]
    Api { server: &'static str, what: String },
    #[error("{binary} could not be built: {detail}")]
    Build { binary: &'static str, detail: String },
}

/// A child server process, stopped (killed and reaped) when dropped.
pub struct ServerProcess {
    name: &'static str,
    child: Child,
    /// Held open so that a server which watches its stdin exits when this process dies.
    _stdin: Option<ChildStdin>,
    url: String,
    log: PathBuf,
}

impl ServerProcess {
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("{} output: {}", self.name, self.log.display());
        }
    }
}

/// `moto_server` exits by itself when our stdin pipe closes, so a killed test run leaves no
/// server behind. It runs moto's own entry point, exactly as the `moto_server` script does.
const MOTO_LAUNCHER: &str = "\
import os, sys, threading
from moto.server import main
def watch_parent():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch_parent, daemon=True).start()
main(sys.argv[1:])
";

pub(crate) fn start_moto(venv: &Path, log_dir: &Path) -> Result<ServerProcess, HarnessError> {
    const NAME: &str = "moto_server";
    let python = venv.join("bin/python");
    let script = venv.join("bin/moto_server");
    if !script.exists() {
        return Err(HarnessError::NotInstalled {
            server: NAME,
            path: script,
        });
    }
    // The port is picked here and handed to moto, so another process may take it in between:
    // a server that exits at startup gets a second and third chance on other ports.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let port = free_port();
        let log = log_file(log_dir, NAME, port);
        let recording = log.with_extension("recording.jsonl");
        File::create(&recording).map_err(|source| spawn_error(NAME, &log, source))?;
        let mut command = Command::new(&python);
        command
            .args(["-c", MOTO_LAUNCHER, "-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ENABLE_RECORDING", "True")
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .env("MOTO_ALLOW_NONEXISTENT_REGION", "True");
        let url = format!("http://127.0.0.1:{port}");
        let mut server = spawn(NAME, command, &log, url)?;
        match wait_for_http(&mut server, "/moto-api/") {
            Ok(()) => {
                // The readiness probe is not the test's call: start the recording empty.
                File::create(&recording).map_err(|source| spawn_error(NAME, &server.log, source))?;
                return Ok(server);
            }
            Err(HarnessError::Exited { .. }) if attempt < 3 => continue,
            Err(err) => return Err(err),
        }
    }
}

pub(crate) fn start_osmem(venv: &Path, log_dir: &Path) -> Result<ServerProcess, HarnessError> {
    const NAME: &str = "osmem-server";
    let binary = osmem_binary(venv).ok_or_else(|| HarnessError::NotInstalled {
        server: NAME,
        path: venv.join("lib/python3*/site-packages/osmem_server/bin/osmem-server"),
    })?;
    // osmem picks its own free port and announces it as a JSON line on stdout: no race.
    let log = log_file(log_dir, NAME, 0);
    let stderr = File::create(&log).map_err(|source| spawn_error(NAME, &log, source))?;
    let mut child = Command::new(&binary)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--parent-pid",
            &std::process::id().to_string(),
            "--no-ja",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|source| spawn_error(NAME, &log, source))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (sender, receiver) = std::sync::mpsc::channel();
    let stdout_log = log.with_extension("stdout.log");
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut copy = File::create(stdout_log).ok();
        for line in lines.by_ref().map_while(Result::ok) {
            if let Some(copy) = copy.as_mut() {
                let _ = writeln!(copy, "{line}");
            }
            let ready = serde_json::from_str::<serde_json::Value>(&line).ok();
            if let Some(url) = ready.as_ref().and_then(|ready| ready["url"].as_str()) {
                let _ = sender.send(url.to_string());
                break;
            }
        }
        // Keep draining so that the server never blocks on a full pipe.
        for line in lines.map_while(Result::ok) {
            if let Some(copy) = copy.as_mut() {
                let _ = writeln!(copy, "{line}");
            }
        }
    });
    let stdin = child.stdin.take();
    let mut server = ServerProcess {
        name: NAME,
        child,
        _stdin: stdin,
        url: String::new(),
        log,
    };
    match receiver.recv_timeout(STARTUP_TIMEOUT) {
        Ok(url) => server.url = url.trim_end_matches('/').to_string(),
        Err(_) => return Err(exited_or_not_ready(&mut server)),
    }
    wait_for_http(&mut server, "/")?;
    Ok(server)
}

/// The binary the `osmem-server` wheel bundles (`site-packages/osmem_server/bin/osmem-server`).
fn osmem_binary(venv: &Path) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("OSMEM_SERVER_BIN") {
        return Some(PathBuf::from(path));
    }
    std::fs::read_dir(venv.join("lib"))
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("site-packages/osmem_server/bin/osmem-server"))
        .find(|path| path.exists())
}

fn spawn(
    name: &'static str,
    mut command: Command,
    log: &Path,
    url: String,
) -> Result<ServerProcess, HarnessError> {
    let output = File::create(log).map_err(|source| spawn_error(name, log, source))?;
    let stderr = output
        .try_clone()
        .map_err(|source| spawn_error(name, log, source))?;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(output)
        .stderr(stderr)
        .spawn()
        .map_err(|source| spawn_error(name, log, source))?;
    let stdin = child.stdin.take();
    Ok(ServerProcess {
        name,
        child,
        _stdin: stdin,
        url,
        log: log.to_path_buf(),
    })
}

/// Polls `path` until the server answers with any HTTP status, it exits, or time runs out.
fn wait_for_http(server: &mut ServerProcess, path: &str) -> Result<(), HarnessError> {
    let address = server.url.trim_start_matches("http://").to_string();
    let started = Instant::now();
    while started.elapsed() < STARTUP_TIMEOUT {
        if server.child.try_wait().ok().flatten().is_some() {
            return Err(exited_or_not_ready(server));
        }
        if answers_http(&address, path) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(exited_or_not_ready(server))
}

fn answers_http(address: &str, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

fn exited_or_not_ready(server: &mut ServerProcess) -> HarnessError {
    match server.child.try_wait() {
        Ok(Some(status)) => HarnessError::Exited {
            server: server.name,
            status,
            log: server.log.clone(),
            tail: tail(&server.log, 20),
        },
        _ => HarnessError::NotReady {
            server: server.name,
            log: server.log.clone(),
        },
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn spawn_error(server: &'static str, log: &Path, source: std::io::Error) -> HarnessError {
    HarnessError::Spawn {
        server,
        log: log.to_path_buf(),
        source,
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}

/// A new log file for one server start: `<dir>/<name>-<pid>-<n>.log`.
pub(crate) fn log_file(dir: &Path, name: &str, port: u16) -> PathBuf {
    static STARTS: AtomicUsize = AtomicUsize::new(0);
    let _ = std::fs::create_dir_all(dir);
    let n = STARTS.fetch_add(1, Ordering::Relaxed);
    let suffix = if port == 0 {
        String::new()
    } else {
        format!("-{port}")
    };
    dir.join(format!("{name}-{}-{n}{suffix}.log", std::process::id()))
}
