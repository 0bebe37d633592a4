//! End-to-end: docker cp (archive GET/PUT/HEAD) and docker export (issue 3).
