//! The human `Status` column of `GET /containers/json` (`Up 3 seconds`, `Exited (3) 2 seconds
//! ago`, `Created`), with go-units' `HumanDuration` wording.

use chrono::{DateTime, Utc};

use super::state::{RunState, Status};

/// go-units `HumanDuration` of a chrono span (negative spans read as zero).
pub fn human_duration(d: chrono::Duration) -> String {
    berth_api_types::units::human_duration(d.to_std().unwrap_or_default())
}

/// The list `Status` text for a container at time `now`.
pub fn status_text(state: &RunState, now: DateTime<Utc>) -> String {
    match state.status {
        Status::Created => "Created".into(),
        Status::Running if state.paused => match state.started_at {
            Some(t) => format!("Up {} (Paused)", human_duration(now - t)),
            None => "Up (Paused)".into(),
        },
        Status::Running => match state.started_at {
            Some(t) => format!("Up {}", human_duration(now - t)),
            None => "Up".into(),
        },
        Status::Restarting => match state.finished_at {
            Some(t) => format!("Restarting ({}) {} ago", state.exit_code, human_duration(now - t)),
            None => format!("Restarting ({})", state.exit_code),
        },
        Status::Exited => match state.finished_at {
            Some(t) => format!("Exited ({}) {} ago", state.exit_code, human_duration(now - t)),
            None => format!("Exited ({})", state.exit_code),
        },
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::milliseconds(300)), "Less than a second");
        assert_eq!(human_duration(Duration::seconds(1)), "1 second");
        assert_eq!(human_duration(Duration::seconds(3)), "3 seconds");
        assert_eq!(human_duration(Duration::seconds(61)), "About a minute");
        assert_eq!(human_duration(Duration::minutes(5)), "5 minutes");
        assert_eq!(human_duration(Duration::minutes(61)), "About an hour");
        assert_eq!(human_duration(Duration::hours(5)), "5 hours");
        assert_eq!(human_duration(Duration::hours(72)), "3 days");
        assert_eq!(human_duration(Duration::days(21)), "3 weeks");
        assert_eq!(human_duration(Duration::days(90)), "3 months");
        assert_eq!(human_duration(Duration::days(800)), "2 years");
    }

    #[test]
    fn status_strings() {
        let now = Utc::now();
        let mut s = RunState::default();
        assert_eq!(status_text(&s, now), "Created");
        s.started(1, now - Duration::seconds(3)).unwrap();
        assert_eq!(status_text(&s, now), "Up 3 seconds");
        s.exited(3, now - Duration::seconds(2), false).unwrap();
        assert_eq!(status_text(&s, now), "Exited (3) 2 seconds ago");
        s.status = Status::Removing;
        assert_eq!(status_text(&s, now), "Removal In Progress");
    }
}
