//! End-to-end: docker build / berth build from Dockerfiles (issue 7).
