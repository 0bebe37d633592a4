//! Query strings of the container endpoints.
