//! The outermost per-route layer: what every answer is seen by. It gives the request its id
//! (`x-request-id`, see [`super::request_id`]), writes the access line (target
//! `gatehouse::access`: request id, method, route template, status, latency), and counts and
//! times the answer under its route template when metrics are on. Added by `Router::layer`,
//! around each route and the fallback, where the matched template is known.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use axum::http::{HeaderValue, Method, Request, Response};
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};
use tracing::Level;

use super::request_id::{self, X_REQUEST_ID};
use crate::metrics::Metrics;

/// The access lines' target: `RUST_LOG=info,gatehouse::access=off` turns them off.
pub const ACCESS_TARGET: &str = "gatehouse::access";

#[derive(Clone)]
pub struct ObserveLayer {
    pub metrics: Option<Arc<Metrics>>,
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    metrics: Option<Arc<Metrics>>,
}

impl<S, B, R> Service<Request<B>> for Observe<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Observed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let id = request_id::for_request(request.headers());
        let route = request.extensions().get::<MatchedPath>();
        let series = self.metrics.as_ref().map(|metrics| {
            let series = metrics.series(route.map(MatchedPath::as_str), request.method().as_str());
            (metrics.clone(), series)
        });
        // Only what the line needs, and only when it will be written.
        let access = tracing::enabled!(target: ACCESS_TARGET, Level::INFO)
            .then(|| (request.method().clone(), route.cloned()));
        Observed {
            inner: request_id::scope(id.clone(), self.inner.call(request)),
            id,
            series,
            access,
            started: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner answer's future, run with its request id current; observes the answer.
    pub struct Observed<F> {
        #[pin]
        inner: TaskLocalFuture<HeaderValue, F>,
        id: HeaderValue,
        // The registry and the request's series; `None`: metrics off.
        series: Option<(Arc<Metrics>, usize)>,
        // Method and route template for the access line; `None`: access lines off.
        access: Option<(Method, Option<MatchedPath>)>,
        started: Instant,
    }
}

impl<F, R, E> Future for Observed<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut output = std::task::ready!(this.inner.poll(cx));
        if let Ok(response) = &mut output {
            let took = this.started.elapsed();
            let status = response.status().as_u16();
            if let Some((metrics, series)) = this.series.take() {
                metrics.record_request(series, status, took);
            }
            if let Some((method, route)) = this.access.take() {
                tracing::info!(
                    target: ACCESS_TARGET,
                    request_id = this.id.to_str().unwrap_or_default(),
                    method = method.as_str(),
                    // Never the raw path: it is the client's to fill, tokens included.
                    route = route.as_ref().map(MatchedPath::as_str),
                    status,
                    // Milliseconds to the microsecond: enough for a latency, short to read.
                    latency_ms = took.as_micros() as f64 / 1000.0,
                    "request"
                );
            }
            response.headers_mut().insert(
                &X_REQUEST_ID,
                std::mem::replace(this.id, HeaderValue::from_static("")),
            );
        }
        Poll::Ready(output)
    }
}
