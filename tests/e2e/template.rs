//! End-to-end tests of the template (see the module's issue).
