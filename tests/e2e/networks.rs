//! End-to-end tests of the networks issue.
