//! berth-cli (skeleton).
