//! Production's file system, without a container: the binary runs from a read-only
//! directory as an unprivileged user (`nobody`), against PostgreSQL with its secret in the
//! environment, serves `/ready`, and writes nothing (no SQLite file, no secret file).

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use crate::helpers::{spawn_app, Backend, ServerProcess};

/// `nobody` and `nogroup` on Debian; what the image's numeric user stands in for.
const UNPRIVILEGED: &str = "65534";

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list the directory")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_from_a_read_only_directory_as_an_unprivileged_user_and_writes_nothing() {
    if !running_as_root() {
        eprintln!("skipping: switching to an unprivileged user needs root (CI runs as root)");
        return;
    }
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let binary = dir.path().join("gatehouse");
    std::fs::copy(env!("CARGO_BIN_EXE_gatehouse"), &binary).expect("copy the binary");
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let mut command = Command::new("setpriv");
    command
        .args([
            "--reuid",
            UNPRIVILEGED,
            "--regid",
            UNPRIVILEGED,
            "--clear-groups",
        ])
        .arg(&binary)
        .arg("serve")
        .current_dir(dir.path());

    let server = ServerProcess::start_command(command, &app, &[("HOME", "/nonexistent")]);
    let ready = reqwest::get(format!("{}/ready", server.address))
        .await
        .expect("GET /ready");
    let status = ready.status();
    let body = ready.text().await.expect("the body");
    let owner = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .expect("the server's /proc status");
    drop(server);

    assert_eq!(status, 200, "{body}");
    assert_eq!(body, r#"{"status":"ready"}"#);
    let uid_line = owner
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap_or_default();
    assert!(
        uid_line
            .split_whitespace()
            .skip(1)
            .all(|id| id == UNPRIVILEGED),
        "not running as {UNPRIVILEGED}: {uid_line}"
    );
    assert_eq!(
        entries(dir.path()),
        ["gatehouse"],
        "the server wrote a file"
    );
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
