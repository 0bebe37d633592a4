//! End-to-end: capabilities, seccomp, read-only rootfs, users, devices, sysctls, namespace sharing, --init (issue 3).
