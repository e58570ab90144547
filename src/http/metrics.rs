//! Recording into [`crate::metrics::Metrics`] from the HTTP layer: the per-route layer that
//! counts and times every answer under its matched route template (added only when metrics
//! are on), and the login counter the three login handlers call with their contract.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use tower::{Layer, Service};

use super::error::AppError;
use super::state::AppState;
use crate::auth::login::{LoginError, LoginOutcome};
use crate::metrics::{LoginContract, LoginResult, Metrics};

/// Counts a login's result under its contract (when metrics are on) and maps its error.
pub fn count_login(
    state: &AppState,
    contract: LoginContract,
    result: Result<LoginOutcome, LoginError>,
) -> Result<LoginOutcome, AppError> {
    let result = result.map_err(AppError::from);
    if let Some(metrics) = &state.metrics {
        let label = match &result {
            Ok(LoginOutcome::Success(_)) => LoginResult::Success,
            Ok(LoginOutcome::InvalidCredentials) => LoginResult::Invalid,
            Ok(LoginOutcome::Disabled) => LoginResult::Disabled,
            Ok(LoginOutcome::Locked(_)) => LoginResult::Locked,
            Err(AppError::Busy) => LoginResult::Busy,
            Err(AppError::Unavailable(_)) => LoginResult::Unavailable,
            Err(_) => LoginResult::Error,
        };
        metrics.record_login(contract, label);
    }
    result
}

/// Wraps each route (and the fallback): `MatchedPath` is known there. With no metrics (no
/// `METRICS_ADDR`) it only passes requests on: one branch as a request arrives, one as it ends.
#[derive(Clone)]
pub struct RequestMetricsLayer {
    pub metrics: Option<Arc<Metrics>>,
}

impl<S> Layer<S> for RequestMetricsLayer {
    type Service = RequestMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestMetrics {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RequestMetrics<S> {
    inner: S,
    metrics: Option<Arc<Metrics>>,
}

impl<S, B, R> Service<Request<B>> for RequestMetrics<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Recorded<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let record = self.metrics.as_ref().map(|metrics| {
            let route = request.extensions().get::<MatchedPath>();
            let method = request.method().as_str();
            let series = metrics.series(route.map(MatchedPath::as_str), method);
            (metrics.clone(), series, Instant::now())
        });
        Recorded {
            inner: self.inner.call(request),
            record,
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner answer's future; records when it completes.
    pub struct Recorded<F> {
        #[pin]
        inner: F,
        // The registry, the request's series, when it arrived; `None`: metrics off.
        record: Option<(Arc<Metrics>, usize, Instant)>,
    }
}

impl<F, R, E> Future for Recorded<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some((metrics, series, started))) = (&output, this.record.take()) {
            metrics.record_request(series, response.status().as_u16(), started.elapsed());
        }
        Poll::Ready(output)
    }
}
