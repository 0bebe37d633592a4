//! End-to-end: exec, pause/unpause, stats, resource limits and update (issue 3).
