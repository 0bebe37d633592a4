//! Query strings and bodies of the networks endpoints.
