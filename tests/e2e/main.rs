//! End-to-end tests: one test binary, one module per suite.

mod demo;
mod integrity;
mod provisioning;
mod soap_faults;
mod zeep;
