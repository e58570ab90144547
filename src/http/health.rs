//! Liveness and database checks for load balancers (seed 003's `/health` and `/test-db`).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::AppError;
use super::state::AppState;
use crate::store::StoreError;
use crate::time_format::rfc3339;

/// A database that has not answered by then counts as down.
pub(super) const DATABASE_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `healthy` or `unhealthy`
    pub status: &'static str,
    /// `ok` or `unavailable`
    pub database: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct DatabaseTime {
    pub message: &'static str,
    /// The database's clock, RFC 3339.
    pub timestamp: String,
}

#[utoipa::path(get, path = "/health", tag = "health",
    responses(
        (status = 200, description = "Serving, and the database answers", body = Health),
        (status = 503, description = "The database did not answer within 2 s", body = Health),
    ))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match tokio::time::timeout(DATABASE_DEADLINE, state.store.ping()).await {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(Health {
                status: "healthy",
                database: "ok",
            }),
        ),
        outcome => {
            if let Ok(Err(e)) = outcome {
                tracing::warn!(error = %e, "health check: database error");
            }
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unhealthy",
                    database: "unavailable",
                }),
            )
        }
    }
}

/// Seed 002's spelling of `/health`: the same answer.
#[utoipa::path(get, path = "/auth/health", tag = "health",
    responses(
        (status = 200, description = "Serving, and the database answers", body = Health),
        (status = 503, description = "The database did not answer within 2 s", body = Health),
    ))]
pub async fn auth_health(state: State<AppState>) -> (StatusCode, Json<Health>) {
    health(state).await
}

#[utoipa::path(get, path = "/test-db", tag = "health",
    responses(
        (status = 200, description = "The database answered with its time", body = DatabaseTime),
        (status = 503, description = "The database did not answer within 2 s", body = crate::http::ErrorBody),
    ))]
pub async fn test_db(State(state): State<AppState>) -> Result<Json<DatabaseTime>, AppError> {
    let now = tokio::time::timeout(DATABASE_DEADLINE, state.store.database_time())
        .await
        .map_err(|_| AppError::Unavailable(StoreError::Unavailable(sqlx::Error::PoolTimedOut)))??;
    Ok(Json(DatabaseTime {
        message: "Successful connection",
        timestamp: rfc3339(now),
    }))
}
