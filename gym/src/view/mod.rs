//! `swarm-gym view`: a local web viewer of results, served on 127.0.0.1 with no external
//! resource (it works offline). It reads only results CSVs and the run directories beside them
//! — never the swarm's internals — and re-reads a file only when it changed.
//!
//! Pages: `/` runs, experiments and rows with filters; `/turn/FILE/LINE` one turn (why it
//! failed, scores with evidence, judge quotes, diff, timeline, transcript); `/ab/ID` an A/B
//! experiment; `/trends` the nightly series with regressions first; `/live` the runs in
//! progress, kept current with server-sent events from `/live/events`.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! gym::view::serve(listener, &["results".into()]).await
//! # }
//! ```

pub mod ab_page;
pub mod catalog;
pub mod index;
pub mod live;
pub mod page;
pub mod timeline;
pub mod trends_page;
pub mod turn;
pub mod turn_page;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use catalog::{Catalog, Filter, RowId};
use maud::{html, Markup};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How often the live stream looks at the run logs.
const LIVE_TICK: Duration = Duration::from_secs(1);

type Shared = Arc<Mutex<Catalog>>;

/// The viewer's routes over the results under `roots`.
pub fn router(roots: &[PathBuf]) -> Router {
    let catalog: Shared = Arc::new(Mutex::new(Catalog::open(roots)));
    Router::new()
        .route("/", get(front))
        .route("/turn/{file}/{line}", get(turn))
        .route("/ab/{experiment}", get(ab))
        .route("/trends", get(trends))
        .route("/live", get(live_page))
        .route("/live/events", get(live_events))
        .fallback(|| async { not_found("No such page.") })
        .with_state(catalog)
}

/// Serves the viewer on `listener` until the process ends.
///
/// # Errors
/// When the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, roots: &[PathBuf]) -> std::io::Result<()> {
    axum::serve(listener, router(roots)).await
}

/// Renders with the catalog refreshed, off the async threads (a page over 10k rows, or the
/// trends' analysis, must not hold up the live stream).
async fn rendered(
    catalog: Shared,
    render: impl FnOnce(&Catalog) -> Option<Markup> + Send + 'static,
) -> Response {
    let result = tokio::task::spawn_blocking(move || {
        let mut catalog = catalog.lock().map_err(|_| "the catalog lock is poisoned")?;
        catalog.refresh();
        Ok::<_, &str>(render(&catalog))
    })
    .await;
    match result {
        Ok(Ok(Some(markup))) => Html(markup.into_string()).into_response(),
        Ok(Ok(None)) => not_found("Nothing here: the row or experiment is not in the results."),
        Ok(Err(why)) => (StatusCode::INTERNAL_SERVER_ERROR, why).into_response(),
        Err(err) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the page failed: {err}"),
        )
            .into_response(),
    }
}

fn not_found(why: &str) -> Response {
    let body = page::frame(
        "Not found",
        html! { h1 { "Not found" } p { (why) } p { a href="/" { "All results" } } },
    );
    (StatusCode::NOT_FOUND, Html(body.into_string())).into_response()
}

async fn front(State(catalog): State<Shared>, Query(filter): Query<Filter>) -> Response {
    rendered(catalog, move |c| Some(index::render(c, &filter))).await
}

async fn turn(
    State(catalog): State<Shared>,
    UrlPath((file, line)): UrlPath<(usize, u64)>,
) -> Response {
    rendered(catalog, move |c| turn_page::render(c, RowId { file, line })).await
}

async fn ab(State(catalog): State<Shared>, UrlPath(experiment): UrlPath<String>) -> Response {
    rendered(catalog, move |c| ab_page::render(c, &experiment)).await
}

async fn trends(State(catalog): State<Shared>) -> Response {
    rendered(catalog, |c| Some(trends_page::render(c))).await
}

/// The results directories whose `runs/` may hold live logs.
fn live_bases(catalog: &Shared) -> Vec<PathBuf> {
    let Ok(mut catalog) = catalog.lock() else {
        return Vec::new();
    };
    catalog.refresh();
    let mut bases: Vec<PathBuf> = catalog
        .roots()
        .iter()
        .filter(|r| r.is_dir())
        .cloned()
        .chain(catalog.sources().iter().map(|s| s.base().to_path_buf()))
        .collect();
    bases.sort();
    bases.dedup();
    bases
}

fn live_runs(bases: &[PathBuf]) -> Vec<live::LiveRun> {
    let bases: Vec<&Path> = bases.iter().map(PathBuf::as_path).collect();
    live::newest_runs(&bases)
}

async fn live_page(State(catalog): State<Shared>) -> Response {
    let runs = tokio::task::spawn_blocking(move || live_runs(&live_bases(&catalog)))
        .await
        .unwrap_or_default();
    Html(live::page(&runs).into_string()).into_response()
}

async fn live_events(
    State(catalog): State<Shared>,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let stream = futures::stream::unfold(
        (catalog, String::new()),
        |(catalog, last_sent)| async move {
            loop {
                tokio::time::sleep(LIVE_TICK).await;
                let shared = catalog.clone();
                let Ok(runs) =
                    tokio::task::spawn_blocking(move || live_runs(&live_bases(&shared))).await
                else {
                    continue;
                };
                // The status line carries the clock; compare without it.
                let boards = live::boards(&runs, SystemTime::now()).into_string();
                let content = boards
                    .split_once("</p>")
                    .map(|(_, rest)| rest.to_string())
                    .unwrap_or_default();
                if content != last_sent {
                    return Some((Ok(Event::default().data(boards)), (catalog, content)));
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
