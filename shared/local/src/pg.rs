//! A private, throwaway PostgreSQL cluster in a folder of the project: `initdb` + `pg_ctl`
//! on a free loopback port, no Unix socket. PostgreSQL refuses to run as root, so as root the
//! server runs as the `postgres` system user (created if missing) through `runuser`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A running private cluster. Dropping it stops the server (fast shutdown).
#[derive(Debug)]
pub struct PrivateCluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    as_postgres: bool,
    running: bool,
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn output_text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)).trim().to_string()
}

/// Where the PostgreSQL server binaries are: `$PG_BIN`, then Debian's
/// `/usr/lib/postgresql/<newest>/bin`, then `initdb` on `PATH`.
pub fn find_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN").map(PathBuf::from)
        && dir.join("initdb").exists()
    {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).find(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
    })
}

/// Finds the server binaries, installing Debian's `postgresql` package when they are missing
/// and we are root on a machine with apt; otherwise says exactly what to install.
pub fn ensure_installed() -> Result<PathBuf, String> {
    if let Some(dir) = find_bin_dir() {
        return Ok(dir);
    }
    let how = "install the PostgreSQL server (Debian/Ubuntu: `apt-get install -y postgresql`; \
               macOS: `brew install postgresql`), or set DATABASE_URL to an existing database, \
               or PG_BIN to the folder holding initdb and pg_ctl";
    if is_root() && Path::new("/usr/bin/apt-get").exists() {
        eprintln!("PostgreSQL server not found: installing Debian's postgresql package …");
        let update = Command::new("apt-get").args(["update", "-qq"]).status();
        let install = Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", "postgresql"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
        match (update, install) {
            (Ok(_), Ok(s)) if s.success() => {}
            _ => return Err(format!("apt-get could not install postgresql; {how}")),
        }
        return find_bin_dir().ok_or_else(|| format!("postgresql installed but initdb not found; {how}"));
    }
    Err(format!("PostgreSQL server binaries (initdb, pg_ctl) not found: {how}"))
}

/// A free TCP port on 127.0.0.1 (the OS picks it; it is free when this returns).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

impl PrivateCluster {
    /// Creates a fresh cluster in `dir` (wiping what was there) and starts it.
    pub fn create(dir: &Path) -> Result<PrivateCluster, String> {
        let bin_dir = ensure_installed()?;
        let as_postgres = is_root();
        let mut dir = dir.to_path_buf();
        // A server left running there by an earlier, interrupted run is stopped first.
        let _ = PrivateCluster::stop_dir(&dir);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if as_postgres {
            ensure_postgres_user()?;
            chown_postgres(&dir)?;
            // The postgres user must reach the folder; a checkout under a private home may not
            // allow that, so fall back to a folder under the system temp dir.
            if !run(Command::new("runuser").args(["-u", "postgres", "--", "test", "-w"]).arg(&dir))?.status.success() {
                let fallback = fallback_dir(&dir);
                let _ = std::fs::remove_dir_all(&fallback);
                std::fs::create_dir_all(&fallback).map_err(|e| format!("cannot create {}: {e}", fallback.display()))?;
                chown_postgres(&fallback)?;
                dir = fallback;
            }
        }
        let data_dir = dir.join("data");
        let mut cluster = PrivateCluster {
            log_file: dir.join("postgres.log"),
            bin_dir,
            data_dir,
            port: free_port().map_err(|e| format!("no free port: {e}"))?,
            as_postgres,
            running: false,
        };
        let out = run(cluster.command("initdb").arg("-D").arg(&cluster.data_dir).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]))?;
        if !out.status.success() {
            return Err(format!("initdb failed: {}", output_text(&out)));
        }
        cluster.start()?;
        Ok(cluster)
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin_dir.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    /// Starts (or restarts) the server on the cluster's port and waits until it accepts
    /// connections.
    pub fn start(&mut self) -> Result<(), String> {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            self.port
        );
        let out = run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&self.log_file)
            .args(["-w", "-t", "60", "-o", &opts, "start"]))?;
        if !out.status.success() {
            let log = std::fs::read_to_string(&self.log_file).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            return Err(format!(
                "pg_ctl start failed: {}\n{}",
                output_text(&out),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        self.running = true;
        Ok(())
    }

    /// Stops the server (fast shutdown: open connections are cut).
    pub fn stop(&mut self) -> Result<(), String> {
        if !self.running {
            return Ok(());
        }
        let out = run(self.command("pg_ctl").arg("-D").arg(&self.data_dir).args(["-w", "-m", "fast", "stop"]))?;
        self.running = false;
        if !out.status.success() {
            return Err(format!("pg_ctl stop failed: {}", output_text(&out)));
        }
        Ok(())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The URL of a database of this cluster (superuser `postgres`, trust auth on loopback).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Leaves the server running after this value is dropped (for `pg-start`).
    pub fn detach(mut self) {
        self.running = false;
    }

    /// Stops a cluster left running by `pg-start` in `dir` (or in its fallback folder).
    pub fn stop_dir(dir: &Path) -> Result<(), String> {
        let bin_dir = ensure_installed()?;
        let dir = if dir.join("data").exists() { dir.to_path_buf() } else { fallback_dir(dir) };
        let data_dir = dir.join("data");
        if !data_dir.join("postmaster.pid").exists() {
            return Ok(());
        }
        let cluster = PrivateCluster {
            bin_dir,
            data_dir,
            log_file: dir.join("postgres.log"),
            port: 0,
            as_postgres: is_root(),
            running: true,
        };
        let mut cluster = cluster;
        cluster.stop()
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("warning: {e}");
        }
    }
}

/// Where a cluster for `dir` lives when the postgres user cannot reach `dir` itself: a folder
/// under the system temp dir named after `dir`, so `pg-stop DIR` finds it again.
fn fallback_dir(dir: &Path) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut h);
    std::env::temp_dir().join(format!("exomaps-pg-{:016x}", h.finish()))
}

fn run(cmd: &mut Command) -> Result<Output, String> {
    cmd.output().map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))
}

fn ensure_postgres_user() -> Result<(), String> {
    if run(Command::new("id").arg("-u").arg("postgres"))?.status.success() {
        return Ok(());
    }
    let out = run(Command::new("useradd").args(["--system", "--no-create-home", "--shell", "/bin/false", "postgres"]))?;
    if out.status.success() { Ok(()) } else { Err(format!("cannot create the postgres user: {}", output_text(&out))) }
}

fn chown_postgres(dir: &Path) -> Result<(), String> {
    let out = run(Command::new("chown").args(["-R", "postgres:"]).arg(dir))?;
    if out.status.success() { Ok(()) } else { Err(format!("chown {} failed: {}", dir.display(), output_text(&out))) }
}
