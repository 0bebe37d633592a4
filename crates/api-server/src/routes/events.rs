//! `GET /events` (SystemEvents): a JSON-lines stream of [`EventMessage`]s.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use berth_api_types::events::{parse_timestamp, EventsQuery};
use berth_api_types::Filters;
use berth_engine::events::EventsOptions;
use futures_util::StreamExt;

use super::containers::query;
use crate::error::ApiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

/// Pure: query → options. Empty or `0` times mean unset, as the docker CLI sends them.
pub fn parse_events(q: &EventsQuery) -> Result<EventsOptions, ApiError> {
    let time = |v: &Option<String>| -> Result<Option<i64>, ApiError> {
        v.as_deref()
            .filter(|s| !s.is_empty() && *s != "0")
            .map(|s| parse_timestamp(s).map_err(|e| ApiError::bad_request(e.to_string())))
            .transpose()
    };
    let filters =
        Filters::parse(q.filters.as_deref().unwrap_or("")).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(EventsOptions { since: time(&q.since)?, until: time(&q.until)?, filters })
}

async fn events(State(engine): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let q: EventsQuery = query(&uri)?;
    let stream = engine.system_events(parse_events(&q)?)?;
    let body = stream.map(|m| {
        let mut line = serde_json::to_vec(&m).unwrap_or_default();
        line.push(b'\n');
        Ok::<_, std::convert::Infallible>(Bytes::from(line))
    });
    Ok(([(header::CONTENT_TYPE, "application/json")], Body::from_stream(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn events_query() {
        let q: EventsQuery = query(
            &"/events?since=1700000000.5&until=0&filters=%7B%22type%22%3A%5B%22container%22%5D%7D".parse().unwrap(),
        )
        .unwrap();
        let o = parse_events(&q).unwrap();
        assert_eq!(o.since, Some(1_700_000_000_500_000_000));
        assert_eq!(o.until, None);
        assert_eq!(o.filters.get("type"), ["container"]);
        let q: EventsQuery = query(&"/events?since=yesterday".parse().unwrap()).unwrap();
        let e = parse_events(&q).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.message, "strconv.ParseInt: parsing \"yesterday\": invalid syntax");
    }

    #[test]
    fn restart_policy_names_are_checked_before_decoding() {
        use crate::routes::containers::parse_create_body;
        let e =
            parse_create_body(br#"{"Image":"busybox","HostConfig":{"RestartPolicy":{"Name":"bogus"}}}"#).unwrap_err();
        assert_eq!((e.status, e.message.as_str()), (StatusCode::BAD_REQUEST, "invalid restart policy 'bogus'"));
        let ok = parse_create_body(br#"{"Image":"busybox","HostConfig":{"RestartPolicy":{"Name":"on-failure"}}}"#);
        assert!(ok.is_ok());
    }
}
