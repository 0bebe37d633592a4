//! berth-testkit (skeleton).
