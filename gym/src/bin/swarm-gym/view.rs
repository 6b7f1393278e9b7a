//! `swarm-gym view`: serves the results viewer on 127.0.0.1 and opens it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Ports tried after the one asked for when it is taken.
const PORT_TRIES: u16 = 20;

pub(crate) fn view_command(results: &[PathBuf], port: u16, open: bool) -> ExitCode {
    for root in results {
        if !root.exists() {
            eprintln!(
                "swarm-gym view: {} does not exist (name a results CSV or a directory holding them; `swarm-gym demo` writes results/demo/results.csv)",
                root.display()
            );
            return ExitCode::from(2);
        }
    }
    let Some(runtime) = crate::runtime() else {
        return ExitCode::from(2);
    };
    runtime.block_on(async {
        let listener = match bind(port).await {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!("swarm-gym view: cannot listen on 127.0.0.1:{port}: {err} (choose another with --port, or --port 0 for any free one)");
                return ExitCode::from(2);
            }
        };
        let address = listener
            .local_addr()
            .map(|a| format!("http://{a}/"))
            .unwrap_or_default();
        let files = gym::view::catalog::find_results(results);
        eprintln!(
            "swarm-gym view: {} results file(s) under {}; Ctrl-C stops it",
            files.len(),
            results
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        // stdout carries the address alone, for scripts.
        println!("{address}");
        if open {
            open_browser(&address);
        }
        match gym::view::serve(listener, results).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("swarm-gym view: the server stopped: {err}");
                ExitCode::from(1)
            }
        }
    })
}

/// Binds 127.0.0.1:`port`, or the next free port after it (`0`: any free port).
async fn bind(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    let tries = if port == 0 { 1 } else { PORT_TRIES };
    for offset in 0..tries {
        let address = SocketAddr::from(([127, 0, 0, 1], port.saturating_add(offset)));
        match tokio::net::TcpListener::bind(address).await {
            Ok(listener) => return Ok(listener),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no port tried")))
}

/// Asks the desktop to open the page, where there is one; a machine without one just has the
/// address printed.
fn open_browser(address: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        "xdg-open"
    } else {
        return;
    };
    let _ = std::process::Command::new(opener)
        .arg(address)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}
