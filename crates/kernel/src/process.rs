//! Process plumbing: subreaper, sessions, signals (owned by the runtime work).
