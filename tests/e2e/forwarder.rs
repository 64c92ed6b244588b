//! End-to-end tests of the forwarder (see the module's issue).
