//! End-to-end: restart policies, healthchecks, events and live restore (issue 3).
