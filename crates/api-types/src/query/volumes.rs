//! Query strings and bodies of the volumes endpoints.
