//! End-to-end: berth compose against berthd (issue 8).
