//! End-to-end tests of the registry issue.
