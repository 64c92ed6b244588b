//! A function binary run as Lambda runs it: a process of its own, given its events through a
//! [`RuntimeApi`](crate::runtime_api) on loopback, each with a deadline.
//!
//! As in Lambda, the process starts once and serves invocation after invocation; one that
//! exited (a crash, a failed init) or was stopped for overrunning its deadline is started again
//! at the next invocation.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::runtime_api::{Answer, Invocation, RuntimeApi};
use crate::{ACCOUNT_ID, HarnessError, REGION, log_dir, process, workspace_root};

/// How long after its deadline an invocation may still answer. Lambda stops the function at the
/// deadline itself; the harness waits longer, since a loaded test machine is slow, and stops it
/// only when it seems hung. [`Function::late_answers`] counts the answers given after the deadline.
const LATE_GRACE: Duration = Duration::from_secs(30);
/// How often a waiting invocation checks that the process still runs.
const POLL: Duration = Duration::from_millis(100);

/// A running function: its process and the Runtime API it polls. Dropping it stops both.
pub struct Function {
    name: String,
    binary: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    instance: Mutex<Instance>,
    invocations: AtomicU64,
    late: AtomicUsize,
}

/// One execution environment: a Runtime API and the process that polls it.
struct Instance {
    child: Child,
    api: RuntimeApi,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Function {
    /// The forwarder (`sluice-forwarder`, built by cargo when needed) as the Lambda function
    /// `sluice-forwarder`, with the settings `env` (e.g. `OPENSEARCH_ENDPOINT`, and
    /// [`Moto::aws_env`](crate::Moto::aws_env) for its AWS calls).
    pub fn forwarder(env: &[(&str, String)]) -> Result<Function, HarnessError> {
        Function::start(&forwarder_binary()?, "sluice-forwarder", env)
    }

    /// Starts `binary` as the function `name` with the settings `env` and nothing else of this
    /// process's environment but `PATH`; it inits, then polls for its first event.
    pub fn start(binary: &Path, name: &str, env: &[(&str, String)]) -> Result<Function, HarnessError> {
        let log = process::log_file(&log_dir(), name, 0);
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        Ok(Function {
            instance: Mutex::new(Instance::start_at(binary, name, &env, &log)?),
            name: name.to_string(),
            binary: binary.to_path_buf(),
            env,
            log,
            invocations: AtomicU64::new(0),
            late: AtomicUsize::new(0),
        })
    }

    /// `arn:aws:lambda:us-east-1:123456789012:function:<name>`.
    pub fn arn(&self) -> String {
        format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{}", self.name)
    }

    /// The file that holds the process's output (both streams, every start).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// How many answers came after their invocation's deadline (Lambda would have stopped
    /// the function instead).
    pub fn late_answers(&self) -> usize {
        self.late.load(Ordering::Relaxed)
    }

    /// Invokes the function with `event` and a deadline `deadline` from now: its response, or the
    /// error it reported (`{"errorType", "errorMessage"}`; its init error if it failed to start).
    /// A process that exits answers `Runtime.ExitError`; one still silent [`LATE_GRACE`] after
    /// the deadline is stopped and answers `Sandbox.Timedout`.
    pub async fn invoke(&self, event: Value, deadline: Duration) -> Answer {
        let n = self.invocations.fetch_add(1, Ordering::Relaxed) + 1;
        let due = Instant::now() + deadline;
        let deadline_ms = (SystemTime::now() + deadline)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let invocation = Invocation {
            id: format!("{n:08x}-5e1c-4a11-9000-{:012x}", std::process::id()),
            event,
            deadline_ms,
            function_arn: self.arn(),
            trace_id: format!("Root=1-00000000-{n:024x};Sampled=0"),
        };
        let id = invocation.id.clone();
        let mut answer = self.submit(invocation)?;
        loop {
            if let Ok(received) = tokio::time::timeout(POLL, &mut answer).await {
                if Instant::now() > due {
                    self.late.fetch_add(1, Ordering::Relaxed);
                }
                return received
                    .unwrap_or_else(|_| Err(error("Runtime.Unknown", "the invocation was dropped")));
            }
            if let Some(given_up) = self.given_up(&id, &mut answer, due) {
                return given_up;
            }
        }
    }

    /// Hands `invocation` to the running process, started again first if it had exited; the
    /// init error of the process that exited, if it reported one, is the answer at once.
    fn submit(&self, invocation: Invocation) -> Result<oneshot::Receiver<Answer>, Value> {
        let mut instance = self.lock();
        if instance.exited().is_some() {
            let init_error = instance.api.take_init_error();
            *instance = self
                .new_instance()
                .map_err(|err| error("Runtime.Unknown", &err.to_string()))?;
            if let Some(init_error) = init_error {
                return Err(init_error);
            }
        }
        Ok(instance.api.submit(invocation))
    }

    /// The answer of an invocation whose process exited, or that is past its deadline and
    /// [`LATE_GRACE`] (the process is stopped); `None` while it may still answer.
    fn given_up(&self, id: &str, answer: &mut oneshot::Receiver<Answer>, due: Instant) -> Option<Answer> {
        let mut instance = self.lock();
        if let Some(status) = instance.exited() {
            instance.api.forget(id);
            return Some(answer.try_recv().unwrap_or_else(|_| {
                let said = format!(
                    "{} exited ({status}); its output is in {}",
                    self.name,
                    self.log.display()
                );
                Err(error("Runtime.ExitError", &said))
            }));
        }
        if Instant::now() <= due + LATE_GRACE {
            return None;
        }
        instance.api.forget(id);
        let _ = instance.child.kill();
        let _ = instance.child.wait();
        let said = format!(
            "{} did not answer within {} s of its deadline; stopped. Its output is in {}",
            self.name,
            LATE_GRACE.as_secs(),
            self.log.display()
        );
        Some(Err(error("Sandbox.Timedout", &said)))
    }

    fn lock(&self) -> MutexGuard<'_, Instance> {
        self.instance
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn new_instance(&self) -> Result<Instance, HarnessError> {
        Instance::start_at(&self.binary, &self.name, &self.env, &self.log)
    }
}

impl Instance {
    fn start_at(
        binary: &Path,
        name: &str,
        env: &[(String, String)],
        log: &Path,
    ) -> Result<Instance, HarnessError> {
        let api = RuntimeApi::start()?;
        let spawn_error = |source| HarnessError::Spawn {
            server: "Lambda function",
            log: log.to_path_buf(),
            source,
        };
        let output = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(spawn_error)?;
        let errors = output.try_clone().map_err(spawn_error)?;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/11/22/[$LATEST]0123456789abcdef",
            )
            .env("AWS_REGION", REGION)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors);
        let child = command.spawn().map_err(spawn_error)?;
        Ok(Instance { child, api })
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

fn error(kind: &str, message: &str) -> Value {
    json!({"errorType": kind, "errorMessage": message})
}

/// The `sluice-forwarder` binary: `SLUICE_FORWARDER_BIN`, or the one `cargo build` makes of the
/// workspace (built once per test process; cargo does nothing when it is up to date).
pub fn forwarder_binary() -> Result<PathBuf, HarnessError> {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    if let Some(path) = std::env::var_os("SLUICE_FORWARDER_BIN") {
        return Ok(PathBuf::from(path));
    }
    BINARY
        .get_or_init(|| cargo_build("sluice-forwarder", "sluice-forwarder"))
        .clone()
        .map_err(|detail| HarnessError::Build {
            binary: "sluice-forwarder",
            detail,
        })
}

/// Builds the binary `bin` of `package` and returns its path, read from cargo's JSON messages.
fn cargo_build(package: &str, bin: &str) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--package",
            package,
            "--bin",
            bin,
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(workspace_root())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|err| format!("cargo could not start: {err}"))?;
    if !output.status.success() {
        return Err(format!("cargo build failed ({})", output.status));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact" && message["target"]["name"] == bin)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo built no executable named {bin}"))
}
