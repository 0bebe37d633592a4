//! End-to-end tests of the volumes issue.
