//! End-to-end tests: one test binary, one module per suite.

mod access;
mod bench;
mod cli;
mod console;
mod demo;
mod drift;
mod enrolment;
mod faults;
mod federation;
mod integrity;
mod logs;
mod metrics;
mod operators;
mod packages;
mod plugins;
mod precompiled;
mod provisioning;
mod queue;
mod queue_control;
mod rollouts;
mod soap_clients;
mod soap_faults;
mod trust;
mod windows;
mod wire;
mod zeep;
