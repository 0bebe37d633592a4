//! Query strings of the image endpoints.
