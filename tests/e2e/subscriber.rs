//! End-to-end tests of the subscriber (see the module's issue).
