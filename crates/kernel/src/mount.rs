//! Mounting and unmounting (owned by the images work).
